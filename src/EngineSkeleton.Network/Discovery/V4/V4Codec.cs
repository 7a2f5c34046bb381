using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Enr;

namespace EngineSkeleton.Network.Discovery.V4;

/// <summary>
/// discv4 packets (devp2p discv4.md, Wire Protocol): <c>hash || signature || packet-type || packet-data</c> where
/// the signature (65 bytes, r || s || v) is over keccak256(packet-type || packet-data) and the hash is keccak256 of
/// everything after it. Decoding checks, in this order: the size (98 to 1,280 bytes), the hash, the signature (the
/// sender is the key it recovers), the type, the RLP of the data (extra list elements and bytes after the list ignored, EIP-8), then the
/// expiration against the clock. Every refusal is a <see cref="DiscoveryException"/>.
/// </summary>
internal static class V4Codec
{
    /// <summary>discv4.md: "The maximum size of any packet is 1280 bytes."</summary>
    public const int MaxPacketSize = 1280;

    /// <summary>How long our packets stay valid: geth's 20 s (p2p/discover/v4_udp.go, expiration).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(20);

    private const int HashSize = 32;
    private const int HeaderSize = HashSize + Secp256k1Keys.SignatureSize;

    /// <summary>The expiration to put in a packet sent now.</summary>
    public static ulong ExpirationFrom(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return (ulong)(clock.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
    }

    /// <summary>Signs and frames <paramref name="message"/>; <paramref name="hash"/> is what the reply will name.</summary>
    public static byte[] Encode(NodeKey key, V4Message message, out Hash256 hash)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        var payloadLength = PayloadLength(message);
        var packet = new byte[HeaderSize + 1 + RlpWriter.LengthOfList(payloadLength)];
        if (packet.Length > MaxPacketSize)
        {
            throw new ArgumentException($"a {message.GetType().Name} of {packet.Length} bytes is over discv4's {MaxPacketSize}", nameof(message));
        }
        packet[HeaderSize] = message.Type;
        var writer = new RlpWriter(packet.AsSpan(HeaderSize + 1));
        Write(ref writer, message, payloadLength);

        Span<byte> digest = stackalloc byte[HashSize];
        Keccak256.Hash(packet.AsSpan(HeaderSize), digest);
        Secp256k1Keys.SignRecoverable(key.PrivateKey, digest, packet.AsSpan(HashSize, Secp256k1Keys.SignatureSize));
        Keccak256.Hash(packet.AsSpan(HashSize), packet.AsSpan(0, HashSize));
        hash = new Hash256(packet.AsSpan(0, HashSize));
        return packet;
    }

    /// <summary>Decodes and checks one packet; an expiration before <paramref name="clock"/>'s now is refused.</summary>
    public static V4Packet Decode(ReadOnlySpan<byte> packet, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (packet.Length > MaxPacketSize)
        {
            throw new DiscoveryException(DiscoveryError.TooLarge, $"packet of {packet.Length} bytes is over discv4's {MaxPacketSize}");
        }
        if (packet.Length < HeaderSize + 1)
        {
            throw new DiscoveryException(DiscoveryError.Malformed, $"packet of {packet.Length} bytes is shorter than its {HeaderSize + 1}-byte header");
        }
        Span<byte> digest = stackalloc byte[HashSize];
        Keccak256.Hash(packet[HashSize..], digest);
        if (!digest.SequenceEqual(packet[..HashSize]))
        {
            throw new DiscoveryException(DiscoveryError.BadHash, "packet hash does not match its contents");
        }
        Keccak256.Hash(packet[HeaderSize..], digest);
        if (!Secp256k1Keys.TryRecover(packet[HashSize..HeaderSize], digest, out var publicKey) || publicKey is null)
        {
            throw new DiscoveryException(DiscoveryError.BadSignature, "no public key can be recovered from the packet's signature");
        }
        var sender = NodeId.FromPublicKey(publicKey);
        var type = packet[HeaderSize];
        V4Message message;
        try
        {
            var outer = new RlpReader(packet[(HeaderSize + 1)..]);
            // EIP-8: bytes after the list are ignored (geth's test packets carry some), as are extra list elements.
            var fields = outer.ReadList();
            message = type switch
            {
                V4PacketType.Ping => ReadPing(ref fields),
                V4PacketType.Pong => ReadPong(ref fields),
                V4PacketType.FindNode => new FindNodeMessage(new NodeId(fields.ReadBytes(NodeId.Size)), fields.ReadUInt64()),
                V4PacketType.Neighbors => ReadNeighbors(ref fields),
                V4PacketType.EnrRequest => new EnrRequestMessage(fields.ReadUInt64()),
                V4PacketType.EnrResponse => new EnrResponseMessage(fields.ReadHash256(), EnrRecord.Read(ref fields)),
                _ => throw new DiscoveryException(DiscoveryError.Malformed, $"unknown packet type 0x{type:x2}"),
            };
            // Elements after the known fields are a later version's: skipped, but they must still be RLP.
            while (fields.HasMore)
            {
                fields.SkipItem();
            }
        }
        catch (RlpException e)
        {
            throw new DiscoveryException(DiscoveryError.Malformed, $"packet type 0x{type:x2}: {e.Message}", e);
        }
        if (message.Expiration is { } expiration && expiration < (ulong)Math.Max(0, clock.GetUtcNow().ToUnixTimeSeconds()))
        {
            throw new DiscoveryException(DiscoveryError.Expired, $"packet type 0x{type:x2} expired at {expiration}");
        }
        return new V4Packet(new Hash256(packet[..HashSize]), sender, message);
    }

    private static PingMessage ReadPing(ref RlpReader fields)
    {
        var version = fields.ReadUInt64();
        var from = ReadEndpoint(ref fields);
        var to = ReadEndpoint(ref fields);
        var expiration = fields.ReadUInt64();
        ulong? seq = fields.HasMore ? fields.ReadUInt64() : null;
        return new PingMessage(version, from, to, expiration, seq);
    }

    private static PongMessage ReadPong(ref RlpReader fields)
    {
        var to = ReadEndpoint(ref fields);
        var pingHash = fields.ReadHash256();
        var expiration = fields.ReadUInt64();
        ulong? seq = fields.HasMore ? fields.ReadUInt64() : null;
        return new PongMessage(to, pingHash, expiration, seq);
    }

    private static NeighborsMessage ReadNeighbors(ref RlpReader fields)
    {
        var list = fields.ReadList();
        // No count is trusted: the list is walked, and 1,280 bytes hold at most a few dozen items of any kind.
        var nodes = new List<V4Node>();
        while (list.HasMore)
        {
            var node = list.ReadList();
            var endpoint = ReadEndpointFields(ref node);
            var id = new NodeId(node.ReadBytes(NodeId.Size));
            while (node.HasMore)
            {
                node.SkipItem();
            }
            nodes.Add(new V4Node(endpoint, id));
        }
        return new NeighborsMessage(nodes, fields.ReadUInt64());
    }

    private static V4Endpoint ReadEndpoint(ref RlpReader fields)
    {
        var endpoint = fields.ReadList();
        var value = ReadEndpointFields(ref endpoint);
        while (endpoint.HasMore)
        {
            endpoint.SkipItem();
        }
        return value;
    }

    private static V4Endpoint ReadEndpointFields(ref RlpReader fields)
    {
        var offset = fields.Offset;
        var ip = fields.ReadBytes();
        IPAddress? address = ip.Length switch
        {
            0 => null,
            4 or 16 => new IPAddress(ip),
            _ => throw new RlpException($"RLP: an IP address is 4 or 16 bytes, found {ip.Length} (at byte {offset})"),
        };
        return new V4Endpoint(address, ReadPort(ref fields), ReadPort(ref fields));
    }

    private static int ReadPort(ref RlpReader fields)
    {
        var offset = fields.Offset;
        var port = fields.ReadUInt64();
        return port <= IPEndPoint.MaxPort ? (int)port
            : throw new RlpException($"RLP: port {port} is over 65535 (at byte {offset})");
    }

    private static int PayloadLength(V4Message message)
    {
        return message switch
        {
            PingMessage ping => RlpWriter.LengthOfUInt64(ping.Version) + EndpointLength(ping.From) + EndpointLength(ping.To)
                + RlpWriter.LengthOfUInt64(ping.ExpiresAt) + (ping.EnrSeq is { } seq ? RlpWriter.LengthOfUInt64(seq) : 0),
            PongMessage pong => EndpointLength(pong.To) + RlpWriter.LengthOfHash256 + RlpWriter.LengthOfUInt64(pong.ExpiresAt)
                + (pong.EnrSeq is { } seq ? RlpWriter.LengthOfUInt64(seq) : 0),
            FindNodeMessage find => RlpWriter.LengthOfBytes(find.Target.Bytes) + RlpWriter.LengthOfUInt64(find.ExpiresAt),
            NeighborsMessage neighbors => RlpWriter.LengthOfList(NodesLength(neighbors.Nodes)) + RlpWriter.LengthOfUInt64(neighbors.ExpiresAt),
            EnrRequestMessage request => RlpWriter.LengthOfUInt64(request.ExpiresAt),
            EnrResponseMessage response => RlpWriter.LengthOfHash256 + response.Record.Encoded.Length,
            _ => throw new ArgumentException($"unknown message {message.GetType().Name}", nameof(message)),
        };
    }

    private static void Write(ref RlpWriter writer, V4Message message, int payloadLength)
    {
        writer.WriteListHeader(payloadLength);
        switch (message)
        {
            case PingMessage ping:
                writer.WriteUInt64(ping.Version);
                WriteEndpoint(ref writer, ping.From);
                WriteEndpoint(ref writer, ping.To);
                writer.WriteUInt64(ping.ExpiresAt);
                if (ping.EnrSeq is { } pingSeq)
                {
                    writer.WriteUInt64(pingSeq);
                }
                break;
            case PongMessage pong:
                WriteEndpoint(ref writer, pong.To);
                writer.WriteHash256(pong.PingHash);
                writer.WriteUInt64(pong.ExpiresAt);
                if (pong.EnrSeq is { } pongSeq)
                {
                    writer.WriteUInt64(pongSeq);
                }
                break;
            case FindNodeMessage find:
                writer.WriteBytes(find.Target.Bytes);
                writer.WriteUInt64(find.ExpiresAt);
                break;
            case NeighborsMessage neighbors:
                writer.WriteListHeader(NodesLength(neighbors.Nodes));
                foreach (var node in neighbors.Nodes)
                {
                    writer.WriteListHeader(EndpointPayloadLength(node.Endpoint) + RlpWriter.LengthOfBytes(node.Id.Bytes));
                    WriteEndpointFields(ref writer, node.Endpoint);
                    writer.WriteBytes(node.Id.Bytes);
                }
                writer.WriteUInt64(neighbors.ExpiresAt);
                break;
            case EnrRequestMessage request:
                writer.WriteUInt64(request.ExpiresAt);
                break;
            case EnrResponseMessage response:
                writer.WriteHash256(response.RequestHash);
                writer.WriteRaw(response.Record.Encoded);
                break;
        }
    }

    private static int NodesLength(IReadOnlyList<V4Node> nodes)
    {
        var length = 0;
        foreach (var node in nodes)
        {
            length += RlpWriter.LengthOfList(EndpointPayloadLength(node.Endpoint) + RlpWriter.LengthOfBytes(node.Id.Bytes));
        }
        return length;
    }

    private static int EndpointLength(V4Endpoint endpoint) => RlpWriter.LengthOfList(EndpointPayloadLength(endpoint));

    private static int EndpointPayloadLength(V4Endpoint endpoint) =>
        RlpWriter.LengthOfBytes(AddressBytes(endpoint.Address)) + RlpWriter.LengthOfUInt64((ulong)endpoint.UdpPort) + RlpWriter.LengthOfUInt64((ulong)endpoint.TcpPort);

    private static void WriteEndpoint(ref RlpWriter writer, V4Endpoint endpoint)
    {
        writer.WriteListHeader(EndpointPayloadLength(endpoint));
        WriteEndpointFields(ref writer, endpoint);
    }

    private static void WriteEndpointFields(ref RlpWriter writer, V4Endpoint endpoint)
    {
        writer.WriteBytes(AddressBytes(endpoint.Address));
        writer.WriteUInt64((ulong)endpoint.UdpPort);
        writer.WriteUInt64((ulong)endpoint.TcpPort);
    }

    /// <summary>4 bytes for IPv4 (and IPv4-mapped IPv6, as geth's NewEndpoint writes it), 16 for IPv6, none for null.</summary>
    private static byte[] AddressBytes(IPAddress? address) => address switch
    {
        null => [],
        { IsIPv4MappedToIPv6: true } => address.MapToIPv4().GetAddressBytes(),
        { AddressFamily: AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 } => address.GetAddressBytes(),
        _ => throw new ArgumentException($"not an IP address: {address}", nameof(address)),
    };
}
