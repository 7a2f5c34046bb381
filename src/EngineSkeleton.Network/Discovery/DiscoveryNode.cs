using System.Net;
using System.Numerics;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Discovery;

/// <summary>
/// A node as the table holds it: its discovery id (keccak256 of the public key, the Kademlia key), where to reach
/// it, and the sequence number of the newest record seen from it (0 for a node known only from discv4 Neighbors,
/// as geth's v4 nodes have).
/// </summary>
internal sealed record DiscoveryNode(Hash256 Id, NodeId PublicKey, IPAddress Address, int UdpPort, int TcpPort, ulong Seq = 0)
{
    /// <summary>A node of this public key: its id is keccak256 of the key's 64 bytes.</summary>
    public static DiscoveryNode Of(NodeId publicKey, IPAddress address, int udpPort, int tcpPort, ulong seq = 0) =>
        new(Keccak256.Hash(publicKey.Bytes), publicKey, address, udpPort, tcpPort, seq);
}

/// <summary>Kademlia distances between 256-bit ids (discv4.md, Node Identities).</summary>
internal static class NodeDistance
{
    /// <summary>The log distance: the bit length of a XOR b, 0 for equal ids, 256 when the first bits differ.</summary>
    public static int Log(Hash256 a, Hash256 b)
    {
        var x = a.Bytes;
        var y = b.Bytes;
        for (var i = 0; i < Hash256.Size; i++)
        {
            var diff = x[i] ^ y[i];
            if (diff != 0)
            {
                return (Hash256.Size - i) * 8 - BitOperations.LeadingZeroCount((uint)diff) + 24;
            }
        }
        return 0;
    }

    /// <summary>Orders <paramref name="a"/> and <paramref name="b"/> by XOR distance to <paramref name="target"/>.</summary>
    public static int Compare(Hash256 target, Hash256 a, Hash256 b)
    {
        var t = target.Bytes;
        var x = a.Bytes;
        var y = b.Bytes;
        for (var i = 0; i < Hash256.Size; i++)
        {
            var da = x[i] ^ t[i];
            var db = y[i] ^ t[i];
            if (da != db)
            {
                return da < db ? -1 : 1;
            }
        }
        return 0;
    }
}
