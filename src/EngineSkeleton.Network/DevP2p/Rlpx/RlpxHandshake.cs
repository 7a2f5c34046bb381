using System.Buffers.Binary;
using System.Security.Cryptography;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The RLPx encryption handshake (rlpx.md, Initial Handshake; EIP-8). The initiator sends auth and reads ack; the
/// recipient reads auth and sends ack; both then derive the same secrets. We always send the EIP-8 forms, and read
/// the pre-EIP-8 forms too, answering an old auth with an old ack as geth did while such peers existed.
/// </summary>
internal static class RlpxHandshake
{
    /// <summary>
    /// Largest EIP-8 packet read, size prefix excluded: geth's limit (p2p/rlpx readMsg, 2 KiB, the base protocol's
    /// message limit). Our own are under 600 bytes; the prefix could claim 64 KiB.
    /// </summary>
    public const int MaxPacketSize = 2048;

    /// <summary>A pre-EIP-8 auth on the wire: 194 bytes of plaintext and ECIES' 113 (geth's encAuthMsgLen).</summary>
    public const int PlainAuthPacketSize = AuthMessage.PlainSize + Ecies.Overhead;

    /// <summary>A pre-EIP-8 ack on the wire: 97 bytes of plaintext and ECIES' 113 (geth's encAuthRespLen).</summary>
    public const int PlainAckPacketSize = AckMessage.PlainSize + Ecies.Overhead;

    /// <summary>
    /// Least random padding after an EIP-8 body: 100 bytes make every EIP-8 packet longer than a pre-EIP-8 one, which
    /// is how a reader tells them apart (EIP-8); geth adds 100 to 199.
    /// </summary>
    private const int MinPadding = 100;

    private const int PaddingSpread = 100;

    /// <summary>Runs the initiator's side: sends auth to <paramref name="remoteId"/>, reads its ack.</summary>
    public static async Task<HandshakeSecrets> InitiateAsync(Stream stream, NodeKey key, NodeId remoteId, CancellationToken cancellationToken)
    {
        if (!remoteId.TryGetPublicKey(out var remoteKey))
        {
            throw new ArgumentException("the remote node id is not a secp256k1 public key", nameof(remoteId));
        }
        using var ephemeral = Secp256k1Keys.Generate();
        var nonce = RandomNonce();
        var auth = CreateAuth(key.PrivateKey, key.Id, remoteKey, ephemeral, nonce);
        var authPacket = SealEip8(auth.EncodeEip8(), remoteKey);
        await stream.WriteAsync(authPacket, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        var ackPacket = await ReadPacketAsync(stream, key.PrivateKey, PlainAckPacketSize, cancellationToken).ConfigureAwait(false);
        var ack = AckMessage.Decode(ackPacket.Plaintext, ackPacket.IsEip8);
        if (!ack.EphemeralId.TryGetPublicKey(out var remoteEphemeral))
        {
            throw AuthMessage.Bad("the ack's ephemeral key is not a secp256k1 public key");
        }
        return DeriveSecrets(initiator: true, ephemeral, remoteEphemeral, nonce, ack.Nonce, authPacket, ackPacket.Bytes, remoteId);
    }

    /// <summary>Runs the recipient's side: reads auth, sends ack. Returns the secrets, with the initiator's identity.</summary>
    public static async Task<HandshakeSecrets> RespondAsync(Stream stream, NodeKey key, CancellationToken cancellationToken)
    {
        var authPacket = await ReadPacketAsync(stream, key.PrivateKey, PlainAuthPacketSize, cancellationToken).ConfigureAwait(false);
        var auth = AuthMessage.Decode(authPacket.Plaintext, authPacket.IsEip8);
        var remoteEphemeral = RecoverInitiatorEphemeral(auth, key.PrivateKey, out var remoteKey);

        using var ephemeral = Secp256k1Keys.Generate();
        var ack = new AckMessage(NodeId.FromPublicKey(ephemeral.CreatePubKey()), RandomNonce(), AckMessage.CurrentVersion, auth.IsEip8);
        var ackPacket = auth.IsEip8 ? SealEip8(ack.EncodeEip8(), remoteKey) : Ecies.Encrypt(remoteKey, ack.EncodePlain(), []);
        await stream.WriteAsync(ackPacket, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return DeriveSecrets(initiator: false, ephemeral, remoteEphemeral, auth.Nonce, ack.Nonce, authPacket.Bytes, ackPacket, auth.InitiatorId);
    }

    /// <summary>
    /// An auth: the signature proves the initiator holds the ephemeral key, over static-shared-secret ^ nonce, which
    /// only the holders of the two static keys can compute.
    /// </summary>
    internal static AuthMessage CreateAuth(ECPrivKey staticKey, NodeId localId, ECPubKey remoteKey, ECPrivKey ephemeral, Hash256 nonce)
    {
        Span<byte> signed = stackalloc byte[Hash256.Size];
        Secp256k1Keys.Agree(staticKey, remoteKey, signed);
        XorBytes.Xor(signed, nonce.Bytes, signed);
        var signature = new byte[Secp256k1Keys.SignatureSize];
        Secp256k1Keys.SignRecoverable(ephemeral, signed, signature);
        CryptographicOperations.ZeroMemory(signed);
        return new AuthMessage(signature, localId, nonce, AuthMessage.CurrentVersion, IsEip8: true);
    }

    /// <summary>
    /// The initiator's ephemeral public key, recovered from the auth signature over static-shared-secret ^ nonce; for
    /// a pre-EIP-8 auth also checked against the keccak256 of it that the auth carries.
    /// </summary>
    internal static ECPubKey RecoverInitiatorEphemeral(AuthMessage auth, ECPrivKey staticKey, out ECPubKey initiatorKey)
    {
        if (!auth.InitiatorId.TryGetPublicKey(out var remote))
        {
            throw AuthMessage.Bad("the initiator's node id is not a secp256k1 public key");
        }
        initiatorKey = remote;
        Span<byte> signed = stackalloc byte[Hash256.Size];
        Secp256k1Keys.Agree(staticKey, remote, signed);
        XorBytes.Xor(signed, auth.Nonce.Bytes, signed);
        var recovered = Secp256k1Keys.TryRecover(auth.Signature, signed, out var ephemeral);
        CryptographicOperations.ZeroMemory(signed);
        if (!recovered || ephemeral is null)
        {
            throw AuthMessage.Bad("no key recovers from the auth signature");
        }
        if (auth.EphemeralHash is { } hash && Keccak256.Hash(NodeId.FromPublicKey(ephemeral).Bytes) != hash)
        {
            throw AuthMessage.Bad("the pre-EIP-8 auth's ephemeral key hash does not match its signature");
        }
        return ephemeral;
    }

    /// <summary>
    /// The session secrets (rlpx.md): ephemeral-key = ecdh(ephemeral, remote-ephemeral); shared-secret =
    /// keccak256(ephemeral-key || keccak256(recipient-nonce || initiator-nonce)); aes-secret = keccak256(ephemeral-key
    /// || shared-secret); mac-secret = keccak256(ephemeral-key || aes-secret). The MAC states start as
    /// (mac-secret ^ recipient-nonce) || auth, the initiator's egress, and (mac-secret ^ initiator-nonce) || ack, its
    /// ingress; the recipient's are the other way round. auth and ack are the packets as sent, size prefix included.
    /// </summary>
    internal static HandshakeSecrets DeriveSecrets(
        bool initiator, ECPrivKey ephemeral, ECPubKey remoteEphemeral, Hash256 initiatorNonce, Hash256 recipientNonce,
        ReadOnlySpan<byte> authPacket, ReadOnlySpan<byte> ackPacket, NodeId remoteId)
    {
        Span<byte> pair = stackalloc byte[2 * Hash256.Size];
        Span<byte> ephemeralKey = stackalloc byte[Hash256.Size];
        Secp256k1Keys.Agree(ephemeral, remoteEphemeral, ephemeralKey);

        recipientNonce.Bytes.CopyTo(pair);
        initiatorNonce.Bytes.CopyTo(pair[Hash256.Size..]);
        Keccak256.Hash(pair, pair[Hash256.Size..]);
        ephemeralKey.CopyTo(pair);
        Keccak256.Hash(pair, pair[Hash256.Size..]); // shared-secret
        var aesSecret = new byte[Hash256.Size];
        Keccak256.Hash(pair, aesSecret);
        aesSecret.CopyTo(pair[Hash256.Size..]);
        var macSecret = new byte[Hash256.Size];
        Keccak256.Hash(pair, macSecret);
        CryptographicOperations.ZeroMemory(pair);
        CryptographicOperations.ZeroMemory(ephemeralKey);

        var authMac = MacState(macSecret, recipientNonce, authPacket);
        var ackMac = MacState(macSecret, initiatorNonce, ackPacket);
        return initiator
            ? new HandshakeSecrets(aesSecret, macSecret, EgressMac: authMac, IngressMac: ackMac, remoteId)
            : new HandshakeSecrets(aesSecret, macSecret, EgressMac: ackMac, IngressMac: authMac, remoteId);
    }

    /// <summary>
    /// Reads an auth or ack encrypted to <paramref name="key"/>. Like geth before it dropped the old form: read as many
    /// bytes as a pre-EIP-8 packet has and try to decrypt them as one; if that fails, the first two bytes are an EIP-8
    /// size prefix, and the rest of the packet follows. Returns the packet as received, for the MAC states.
    /// </summary>
    internal static async Task<HandshakePacket> ReadPacketAsync(Stream stream, ECPrivKey key, int plainPacketSize, CancellationToken cancellationToken)
    {
        var head = new byte[plainPacketSize];
        await stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
        if (Ecies.TryDecrypt(key, head, [], out var plain))
        {
            return new HandshakePacket(head, plain, IsEip8: false);
        }
        var size = BinaryPrimitives.ReadUInt16BigEndian(head);
        if (size > MaxPacketSize)
        {
            throw AuthMessage.Bad($"packet announces {size} bytes, more than the {MaxPacketSize} allowed");
        }
        if (size + 2 < plainPacketSize)
        {
            throw AuthMessage.Bad($"packet announces {size} bytes, fewer than any handshake packet has, and is not a pre-EIP-8 one");
        }
        var packet = new byte[size + 2];
        head.CopyTo(packet, 0);
        await stream.ReadExactlyAsync(packet.AsMemory(plainPacketSize), cancellationToken).ConfigureAwait(false);
        if (!Ecies.TryDecrypt(key, packet.AsSpan(2), packet.AsSpan(0, 2), out var decrypted))
        {
            throw AuthMessage.Bad($"a {packet.Length}-byte packet that does not decrypt with our key");
        }
        return new HandshakePacket(packet, decrypted, IsEip8: true);
    }

    /// <summary>EIP-8 packet: size || ecies.encrypt(remote, body || padding, size), size = 16-bit big-endian.</summary>
    internal static byte[] SealEip8(ReadOnlySpan<byte> body, ECPubKey remoteKey)
    {
        var padding = MinPadding + RandomNumberGenerator.GetInt32(PaddingSpread);
        var plaintext = new byte[body.Length + padding];
        body.CopyTo(plaintext);
        var size = plaintext.Length + Ecies.Overhead;
        var packet = new byte[2 + size];
        BinaryPrimitives.WriteUInt16BigEndian(packet, checked((ushort)size));
        Ecies.Encrypt(remoteKey, plaintext, packet.AsSpan(0, 2), packet.AsSpan(2));
        return packet;
    }

    private static KeccakMacState MacState(ReadOnlySpan<byte> macSecret, Hash256 nonce, ReadOnlySpan<byte> packet)
    {
        Span<byte> seed = stackalloc byte[Hash256.Size];
        XorBytes.Xor(macSecret, nonce.Bytes, seed);
        var state = new KeccakMacState();
        state.Update(seed);
        state.Update(packet);
        CryptographicOperations.ZeroMemory(seed);
        return state;
    }

    private static Hash256 RandomNonce()
    {
        Span<byte> nonce = stackalloc byte[Hash256.Size];
        RandomNumberGenerator.Fill(nonce);
        return new Hash256(nonce);
    }
}

/// <summary>An auth or ack as received (<see cref="Bytes"/>, size prefix included) and its decrypted body.</summary>
internal sealed record HandshakePacket(byte[] Bytes, byte[] Plaintext, bool IsEip8);
