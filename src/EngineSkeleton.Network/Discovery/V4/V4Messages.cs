using System.Net;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Enr;

namespace EngineSkeleton.Network.Discovery.V4;

/// <summary>The packet types of discv4.md (Ping 0x01 … ENRResponse 0x06, the last two from EIP-868).</summary>
internal static class V4PacketType
{
    public const byte Ping = 0x01;
    public const byte Pong = 0x02;
    public const byte FindNode = 0x03;
    public const byte Neighbors = 0x04;
    public const byte EnrRequest = 0x05;
    public const byte EnrResponse = 0x06;
}

/// <summary>
/// An endpoint, <c>[ip, udp-port, tcp-port]</c>: the IP is 4 or 16 bytes, or empty (null here) where a sender left it
/// out, as some implementations do in Ping's <c>from</c>.
/// </summary>
internal readonly record struct V4Endpoint(IPAddress? Address, int UdpPort, int TcpPort);

/// <summary>A node in a Neighbors packet, <c>[ip, udp-port, tcp-port, node-id]</c>. The id is not checked to be a
/// curve point here: geth skips such a node and keeps the rest of the packet, and so should the caller
/// (<see cref="NodeId.IsValidPublicKey"/>).</summary>
internal sealed record V4Node(V4Endpoint Endpoint, NodeId Id);

/// <summary>A discv4 packet's data; <see cref="Type"/> is its packet-type byte.</summary>
internal abstract record V4Message
{
    public abstract byte Type { get; }

    /// <summary>The absolute UNIX time after which the packet is void; null for ENRResponse, which has none.</summary>
    public abstract ulong? Expiration { get; }
}

/// <summary><c>[version, from, to, expiration, enr-seq?, ...]</c>; <paramref name="EnrSeq"/> is EIP-868's optional field.</summary>
internal sealed record PingMessage(ulong Version, V4Endpoint From, V4Endpoint To, ulong ExpiresAt, ulong? EnrSeq) : V4Message
{
    /// <summary>The version discv4.md says to send.</summary>
    public const ulong CurrentVersion = 4;

    public override byte Type => V4PacketType.Ping;

    public override ulong? Expiration => ExpiresAt;
}

/// <summary><c>[to, ping-hash, expiration, enr-seq?, ...]</c>.</summary>
internal sealed record PongMessage(V4Endpoint To, Hash256 PingHash, ulong ExpiresAt, ulong? EnrSeq) : V4Message
{
    public override byte Type => V4PacketType.Pong;

    public override ulong? Expiration => ExpiresAt;
}

/// <summary><c>[target, expiration, ...]</c>: the 64-byte public key whose neighbourhood is asked for.</summary>
internal sealed record FindNodeMessage(NodeId Target, ulong ExpiresAt) : V4Message
{
    public override byte Type => V4PacketType.FindNode;

    public override ulong? Expiration => ExpiresAt;
}

/// <summary><c>[[node, ...], expiration, ...]</c>.</summary>
internal sealed record NeighborsMessage(IReadOnlyList<V4Node> Nodes, ulong ExpiresAt) : V4Message
{
    /// <summary>geth's v4wire.MaxNeighbors: the most nodes of IPv6 addresses that fit a 1,280-byte packet.</summary>
    public const int MaxNodes = 12;

    public override byte Type => V4PacketType.Neighbors;

    public override ulong? Expiration => ExpiresAt;
}

/// <summary><c>[expiration, ...]</c> (EIP-868).</summary>
internal sealed record EnrRequestMessage(ulong ExpiresAt) : V4Message
{
    public override byte Type => V4PacketType.EnrRequest;

    public override ulong? Expiration => ExpiresAt;
}

/// <summary><c>[request-hash, record, ...]</c> (EIP-868); the record's signature is verified when it is decoded.</summary>
internal sealed record EnrResponseMessage(Hash256 RequestHash, EnrRecord Record) : V4Message
{
    public override byte Type => V4PacketType.EnrResponse;

    public override ulong? Expiration => null;
}

/// <summary>A decoded packet: its hash (what a Pong or ENRResponse names), who signed it and what it says.</summary>
internal sealed record V4Packet(Hash256 Hash, NodeId Sender, V4Message Message);
