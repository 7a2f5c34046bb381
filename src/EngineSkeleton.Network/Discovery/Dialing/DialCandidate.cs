using System.Net;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Enr;

namespace EngineSkeleton.Network.Discovery.Dialing;

/// <summary>Where a dial candidate came from; admin_peers shows it for each peer.</summary>
internal enum DialSource
{
    /// <summary>--bootnodes or a built-in bootnode, answered a discv4 Ping.</summary>
    Bootnode,

    /// <summary>Found through discv4: a node of our table (it answered our Ping).</summary>
    Discv4,

    /// <summary>A record of an EIP-1459 DNS tree.</summary>
    Dns,
}

/// <summary>
/// A node we may dial over RLPx: its key, its TCP endpoint and, when we have it, its signed record (whose <c>eth</c>
/// entry carries its fork id). A node that did not answer ENRRequest (EIP-868 is optional; ethereumjs' discv4 has
/// none) comes without a record.
/// </summary>
internal sealed record DialCandidate(NodeId Id, IPAddress Address, int TcpPort, EnrRecord? Record, DialSource Source)
{
    public Enode ToEnode() => new(Id, Address.ToString(), TcpPort, TcpPort);
}
