using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The initiator's auth body (rlpx.md, Initial Handshake): [sig, initiator-pubk, initiator-nonce, auth-vsn, ...] in
/// EIP-8 form, or the fixed 194 bytes sig || keccak256(ephemeral-pubk) || pubk || nonce || 0x00 of pre-EIP-8 peers.
/// <see cref="EphemeralHash"/> is only in the old form. Elements after auth-vsn are ignored and a different version is
/// not an error, as EIP-8 requires.
/// </summary>
internal sealed record AuthMessage(byte[] Signature, NodeId InitiatorId, Hash256 Nonce, ulong Version, bool IsEip8, Hash256? EphemeralHash = null)
{
    /// <summary>auth-vsn we send (rlpx.md).</summary>
    public const ulong CurrentVersion = 4;

    /// <summary>Size of the pre-EIP-8 plaintext: sig 65, hash 32, key 64, nonce 32, flag 1.</summary>
    public const int PlainSize = Secp256k1Keys.SignatureSize + Hash256.Size + NodeId.Size + Hash256.Size + 1;

    public static AuthMessage Decode(ReadOnlySpan<byte> plaintext, bool eip8)
    {
        if (!eip8)
        {
            if (plaintext.Length != PlainSize)
            {
                throw Bad($"pre-EIP-8 auth is {PlainSize} bytes, got {plaintext.Length}");
            }
            var signature = plaintext[..Secp256k1Keys.SignatureSize];
            var rest = plaintext[Secp256k1Keys.SignatureSize..];
            var ephemeralHash = new Hash256(rest[..Hash256.Size]);
            rest = rest[Hash256.Size..];
            return new AuthMessage(
                signature.ToArray(), new NodeId(rest[..NodeId.Size]), new Hash256(rest.Slice(NodeId.Size, Hash256.Size)), CurrentVersion, IsEip8: false, ephemeralHash);
        }
        try
        {
            // The list is followed by random padding, which is not RLP: read the first item only.
            var list = new RlpReader(plaintext).ReadList();
            var signatureBytes = list.ReadBytes(Secp256k1Keys.SignatureSize).ToArray();
            var id = new NodeId(list.ReadBytes(NodeId.Size));
            var nonce = new Hash256(list.ReadBytes(Hash256.Size));
            var version = list.ReadUInt64();
            return new AuthMessage(signatureBytes, id, nonce, version, IsEip8: true);
        }
        catch (RlpException e)
        {
            throw Bad($"EIP-8 auth body is malformed: {e.Message}", e);
        }
    }

    /// <summary>The EIP-8 body: [sig, initiator-pubk, initiator-nonce, auth-vsn].</summary>
    public byte[] EncodeEip8()
    {
        var payload = RlpWriter.LengthOfBytes(Signature) + RlpWriter.LengthOfBytes(InitiatorId.Bytes)
            + RlpWriter.LengthOfHash256 + RlpWriter.LengthOfUInt64(Version);
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        writer.WriteBytes(Signature);
        writer.WriteBytes(InitiatorId.Bytes);
        writer.WriteHash256(Nonce);
        writer.WriteUInt64(Version);
        return output;
    }

    internal static RlpxProtocolException Bad(string message, Exception? inner = null) =>
        new(RlpxErrorKind.BadHandshake, $"RLPx handshake: {message}", inner);
}

/// <summary>
/// The recipient's ack body: [recipient-ephemeral-pubk, recipient-nonce, ack-vsn, ...] in EIP-8 form, or the fixed
/// 97 bytes ephemeral-pubk || nonce || 0x00 of pre-EIP-8 peers.
/// </summary>
internal sealed record AckMessage(NodeId EphemeralId, Hash256 Nonce, ulong Version, bool IsEip8)
{
    /// <summary>ack-vsn we send (rlpx.md).</summary>
    public const ulong CurrentVersion = 4;

    /// <summary>Size of the pre-EIP-8 plaintext: key 64, nonce 32, flag 1.</summary>
    public const int PlainSize = NodeId.Size + Hash256.Size + 1;

    public static AckMessage Decode(ReadOnlySpan<byte> plaintext, bool eip8)
    {
        if (!eip8)
        {
            if (plaintext.Length != PlainSize)
            {
                throw AuthMessage.Bad($"pre-EIP-8 ack is {PlainSize} bytes, got {plaintext.Length}");
            }
            return new AckMessage(new NodeId(plaintext[..NodeId.Size]), new Hash256(plaintext.Slice(NodeId.Size, Hash256.Size)), CurrentVersion, IsEip8: false);
        }
        try
        {
            var list = new RlpReader(plaintext).ReadList();
            var id = new NodeId(list.ReadBytes(NodeId.Size));
            var nonce = new Hash256(list.ReadBytes(Hash256.Size));
            var version = list.ReadUInt64();
            return new AckMessage(id, nonce, version, IsEip8: true);
        }
        catch (RlpException e)
        {
            throw AuthMessage.Bad($"EIP-8 ack body is malformed: {e.Message}", e);
        }
    }

    /// <summary>The EIP-8 body: [recipient-ephemeral-pubk, recipient-nonce, ack-vsn].</summary>
    public byte[] EncodeEip8()
    {
        var payload = RlpWriter.LengthOfBytes(EphemeralId.Bytes) + RlpWriter.LengthOfHash256 + RlpWriter.LengthOfUInt64(Version);
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        writer.WriteBytes(EphemeralId.Bytes);
        writer.WriteHash256(Nonce);
        writer.WriteUInt64(Version);
        return output;
    }

    /// <summary>The pre-EIP-8 body, for answering a peer that sent its auth in that form.</summary>
    public byte[] EncodePlain()
    {
        var output = new byte[PlainSize];
        EphemeralId.Bytes.CopyTo(output);
        Nonce.Bytes.CopyTo(output.AsSpan(NodeId.Size));
        return output;
    }
}
