using System.Text;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The p2p Hello (rlpx.md, Hello (0x00)): [protocolVersion, clientId, [[cap, capVersion], ...], listenPort, nodeKey,
/// ...]. Elements after nodeKey are ignored, as rlpx.md requires; so are elements after a capability's version.
/// Compared by value, capabilities in order.
/// </summary>
public sealed record Hello
{
    /// <summary>The p2p protocol version we speak: 5, which adds Snappy (EIP-706).</summary>
    public const ulong CurrentProtocolVersion = 5;

    /// <summary>First p2p version that compresses every message after Hello with Snappy (EIP-706).</summary>
    public const ulong SnappyProtocolVersion = 5;

    /// <summary>Largest Hello read: geth's baseProtocolMaxMsgSize (p2p/peer.go), 2 KiB.</summary>
    public const int MaxSize = 2 * 1024;

    public ulong ProtocolVersion { get; init; } = CurrentProtocolVersion;

    public required string ClientId { get; init; }

    public required IReadOnlyList<Capability> Capabilities { get; init; }

    /// <summary>Legacy; rlpx.md says to ignore it. 0 says the node does not listen.</summary>
    public ulong ListenPort { get; init; }

    public required NodeId NodeId { get; init; }

    public bool Equals(Hello? other) =>
        other is not null
        && ProtocolVersion == other.ProtocolVersion
        && ClientId == other.ClientId
        && Capabilities.SequenceEqual(other.Capabilities)
        && ListenPort == other.ListenPort
        && NodeId == other.NodeId;

    public override int GetHashCode() => HashCode.Combine(ProtocolVersion, ClientId, Capabilities.Count, ListenPort, NodeId);

    /// <summary>The RLP payload (message code not included).</summary>
    public byte[] Encode()
    {
        var clientId = Encoding.UTF8.GetBytes(ClientId);
        var capsPayload = 0;
        foreach (var capability in Capabilities)
        {
            capability.Validate();
            capsPayload += RlpWriter.LengthOfList(CapabilityPayload(capability));
        }
        var payload = RlpWriter.LengthOfUInt64(ProtocolVersion) + RlpWriter.LengthOfBytes(clientId) + RlpWriter.LengthOfList(capsPayload)
            + RlpWriter.LengthOfUInt64(ListenPort) + RlpWriter.LengthOfBytes(NodeId.Bytes);
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        writer.WriteUInt64(ProtocolVersion);
        writer.WriteBytes(clientId);
        writer.WriteListHeader(capsPayload);
        foreach (var capability in Capabilities)
        {
            writer.WriteListHeader(CapabilityPayload(capability));
            writer.WriteBytes(Encoding.ASCII.GetBytes(capability.Name));
            writer.WriteUInt64(capability.Version);
        }
        writer.WriteUInt64(ListenPort);
        writer.WriteBytes(NodeId.Bytes);
        return output;
    }

    /// <summary>
    /// Decodes a Hello payload. A node id that is not 64 bytes or is all zeros is <see cref="RlpxErrorKind.NullIdentity"/>
    /// (geth: DiscInvalidIdentity); anything else malformed is <see cref="RlpxErrorKind.BadMessage"/>.
    /// </summary>
    public static Hello Decode(ReadOnlySpan<byte> payload)
    {
        ReadOnlySpan<byte> id;
        Hello hello;
        try
        {
            var outer = new RlpReader(payload);
            var list = outer.ReadList();
            outer.EnsureEnd();
            var version = list.ReadUInt64();
            var clientId = Encoding.UTF8.GetString(list.ReadBytes());
            var capabilities = new List<Capability>();
            var caps = list.ReadList();
            while (caps.HasMore)
            {
                var cap = caps.ReadList();
                var name = Encoding.UTF8.GetString(cap.ReadBytes());
                var capVersion = cap.ReadUInt64();
                if (capVersion > uint.MaxValue)
                {
                    throw new RlpException($"capability {name} has version {capVersion}, beyond 32 bits");
                }
                capabilities.Add(new Capability(name, (uint)capVersion));
            }
            var listenPort = list.ReadUInt64();
            id = list.ReadBytes();
            hello = new Hello
            {
                ProtocolVersion = version,
                ClientId = clientId,
                Capabilities = capabilities,
                ListenPort = listenPort,
                NodeId = id.Length == NodeId.Size ? new NodeId(id) : default,
            };
        }
        catch (RlpException e)
        {
            throw new RlpxProtocolException(RlpxErrorKind.BadMessage, $"malformed Hello: {e.Message}", e);
        }
        if (id.Length != NodeId.Size || hello.NodeId.IsZero)
        {
            throw new RlpxProtocolException(RlpxErrorKind.NullIdentity, $"Hello carries an invalid node id ({id.Length} bytes{(id.Length == NodeId.Size ? ", all zero" : "")})");
        }
        return hello;
    }

    public override string ToString() =>
        $"Hello {{ version = {ProtocolVersion}, client = {ClientId}, caps = [{string.Join(", ", Capabilities)}], port = {ListenPort}, id = {NodeId.ToShortString()} }}";

    private static int CapabilityPayload(Capability capability) =>
        RlpWriter.LengthOfBytes(Encoding.ASCII.GetBytes(capability.Name)) + RlpWriter.LengthOfUInt64(capability.Version);
}
