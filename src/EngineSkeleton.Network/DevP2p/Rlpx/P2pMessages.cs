using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>Payloads of the small p2p messages: Disconnect, Ping and Pong (rlpx.md, "p2p" Capability).</summary>
public static class P2pMessages
{
    /// <summary>Ping and Pong carry an empty list.</summary>
    public static ReadOnlyMemory<byte> EmptyList { get; } = new byte[] { 0xc0 };

    /// <summary>[reason], as geth sends it (p2p/transport.go).</summary>
    public static byte[] EncodeDisconnect(DisconnectReason reason)
    {
        var item = RlpWriter.EncodeUInt64((ulong)reason);
        var output = new byte[RlpWriter.LengthOfList(item.Length)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(item.Length);
        writer.WriteRaw(item);
        return output;
    }

    /// <summary>
    /// The reason of a Disconnect payload: [reason], or the bare integer some clients (geth among them, once) sent by
    /// mistake. Null when there is none or it cannot be read; a disconnecting peer is not worth an exception.
    /// </summary>
    public static DisconnectReason? DecodeDisconnect(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new RlpReader(payload);
            if (!reader.HasMore)
            {
                return null;
            }
            if (reader.PeekIsList)
            {
                var list = reader.ReadList();
                if (!list.HasMore)
                {
                    return null;
                }
                reader = list;
            }
            var value = reader.ReadUInt64();
            return value <= byte.MaxValue ? (DisconnectReason)value : null;
        }
        catch (RlpException)
        {
            return null;
        }
    }
}
