using System.Text;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.Dns;
using EngineSkeleton.Network.Discovery.Enr;
using EngineSkeleton.Network.Discovery.V4;
using static EngineSkeleton.Fuzz.Targets.CoreTargets;

namespace EngineSkeleton.Fuzz.Targets;

/// <summary>
/// The transports' decoders (src/EngineSkeleton.Network): eth messages refuse with <see cref="EthMessageException"/>,
/// RLPx with <see cref="RlpxProtocolException"/> (a stream that ends early with <see cref="EndOfStreamException"/>),
/// discovery with <see cref="DiscoveryException"/>; ECIES and Disconnect answer with a value.
/// </summary>
internal static class NetworkTargets
{
    /// <summary>A fixed node key, so that a signed target's packets and a crash input replay the same way.</summary>
    private static readonly NodeKey Key = NodeKey.FromBytes(Convert.FromHexString("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"));

    private static readonly TimeProvider Clock = new FixedClock(ServerTargets.Now);

    public static IEnumerable<FuzzTarget> All =>
    [
        new("eth", "EthMessages.Decode: byte 0 picks eth/68 or eth/69, byte 1 the code, the rest is the payload", Eth),
        new("rlpx-message", "RlpxConnection.DecodeMessage (code, Snappy) then Hello.Decode or P2pMessages.DecodeDisconnect", RlpxMessage),
        new("rlpx-auth", "AuthMessage.Decode and AckMessage.Decode: byte 0 picks EIP-8 or the old form", RlpxAuth),
        new("rlpx-handshake", "RlpxHandshake.ReadPacketAsync (size prefix, ECIES) over the input as a stream", RlpxHandshake),
        new("discv4", "V4Codec.Decode of a raw packet", Discv4),
        new("discv4-signed", "V4Codec.Decode of type || data that the target hashes and signs", Discv4Signed),
        new("enr", "EnrRecord.Decode (RLP) and EnrRecord.Parse (text)", Enr),
        new("dns", "EnrTreeEntry.Parse (TXT entries) and EnrTreeUrl.TryParse", Dns),
    ];

    private static void Eth(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }
        var version = input[0] % 2 == 0 ? EthProtocol.Eth68 : EthProtocol.Eth69;
        EthMessage message;
        try
        {
            message = EthMessages.Decode(version, input[1], input[2..]);
        }
        catch (EthMessageException)
        {
            return;
        }
        // Whatever was accepted can be sent on (the serving side re-encodes what it holds).
        _ = message.Encode();
        _ = message.ToString();
    }

    private static void RlpxMessage(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var compressed = (input[0] & 1) != 0;
        Network.DevP2p.Rlpx.RlpxMessage message;
        try
        {
            message = RlpxConnection.DecodeMessage(input[1..], new RlpxOptions().MaxMessageSize, compressed);
        }
        catch (RlpxProtocolException)
        {
            return;
        }
        Expect(message.Payload.Length <= new RlpxOptions().MaxMessageSize, "a message over the limit came through");
        switch (message.Code)
        {
            case P2pMessageCodes.Hello:
                try
                {
                    _ = Hello.Decode(message.Payload.Span).ToString();
                }
                catch (RlpxProtocolException)
                {
                }
                break;
            case P2pMessageCodes.Disconnect:
                _ = P2pMessages.DecodeDisconnect(message.Payload.Span);
                break;
            default:
                break;
        }
    }

    private static void RlpxAuth(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var eip8 = (input[0] & 1) != 0;
        var body = input[1..];
        try
        {
            _ = AuthMessage.Decode(body, eip8);
        }
        catch (RlpxProtocolException)
        {
        }
        try
        {
            _ = AckMessage.Decode(body, eip8);
        }
        catch (RlpxProtocolException)
        {
        }
    }

    private static void RlpxHandshake(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var plainSize = (input[0] & 1) != 0 ? Network.DevP2p.Rlpx.RlpxHandshake.PlainAckPacketSize : Network.DevP2p.Rlpx.RlpxHandshake.PlainAuthPacketSize;
        using var stream = new MemoryStream(input[1..].ToArray(), writable: false);
        try
        {
            var packet = Network.DevP2p.Rlpx.RlpxHandshake.ReadPacketAsync(stream, Key.PrivateKey, plainSize, CancellationToken.None).GetAwaiter().GetResult();
            Expect(packet.Bytes.Length <= Network.DevP2p.Rlpx.RlpxHandshake.MaxPacketSize + 2, "a handshake packet over the limit came through");
        }
        catch (Exception e) when (e is RlpxProtocolException or EndOfStreamException)
        {
        }
        // ECIES on its own: the first bytes are the shared-mac-data length.
        var macLength = Math.Min(input[0] >> 1, input.Length - 1);
        _ = Ecies.TryDecrypt(Key.PrivateKey, input[(1 + macLength)..], input.Slice(1, macLength), out _);
    }

    private static void Discv4(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = V4Codec.Decode(input, Clock);
        }
        catch (DiscoveryException)
        {
        }
    }

    /// <summary>The hash and signature wrapped around the fuzzer's bytes, so that mutations reach the packet's RLP.</summary>
    private static void Discv4Signed(ReadOnlySpan<byte> input)
    {
        const int header = 32 + 65;
        var packet = new byte[header + input.Length];
        input.CopyTo(packet.AsSpan(header));
        Span<byte> digest = stackalloc byte[32];
        Keccak256.Hash(packet.AsSpan(header), digest);
        Secp256k1Keys.SignRecoverable(Key.PrivateKey, digest, packet.AsSpan(32, 65));
        Keccak256.Hash(packet.AsSpan(32), packet.AsSpan(0, 32));
        V4Packet decoded;
        try
        {
            decoded = V4Codec.Decode(packet, Clock);
        }
        catch (DiscoveryException e)
        {
            // BadSignature stays possible for an ENRResponse: the record inside carries a signature of its own.
            var enrResponse = !input.IsEmpty && input[0] == V4PacketType.EnrResponse;
            Expect(e.Kind != DiscoveryError.BadHash && (enrResponse || e.Kind != DiscoveryError.BadSignature), $"a packet signed here refused as {e.Kind}");
            return;
        }
        Expect(decoded.Sender == Key.Id, "a packet signed here names another sender");
        _ = decoded.ToString();
    }

    private static void Enr(ReadOnlySpan<byte> input)
    {
        try
        {
            var record = EnrRecord.Decode(input);
            _ = record.ToString();
        }
        catch (DiscoveryException)
        {
        }
        try
        {
            _ = EnrRecord.Parse(Encoding.UTF8.GetString(input));
        }
        catch (DiscoveryException)
        {
        }
    }

    private static void Dns(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        try
        {
            var entry = EnrTreeEntry.Parse(text);
            _ = EnrTreeEntry.NameMatches(EnrTreeEntry.HashName(text), text);
            _ = entry.ToString();
        }
        catch (DiscoveryException)
        {
        }
        _ = EnrTreeUrl.TryParse(text, out _, out _);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
