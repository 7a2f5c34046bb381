using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Rlpx;
using NBitcoin.Secp256k1;
using static EngineSkeleton.Network.Tests.DevP2p.Rlpx.Eip8Vectors;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>EIP-8's handshake vectors, read by our handshake code, and our own packets read back.</summary>
public sealed class HandshakeVectorTests
{
    public static TheoryData<string, byte[], ulong, bool> Auths => new()
    {
        { "Auth₁, the pre-EIP-8 form, has no size prefix and reads as version 4", Auth1, 4, false },
        { "Auth₂, EIP-8 with version 4", Auth2, 4, true },
        { "Auth₃, EIP-8 with version 56 and three more list elements, which are ignored", Auth3, 56, true },
    };

    public static TheoryData<string, byte[], ulong, bool> Acks => new()
    {
        { "Ack₁, the pre-EIP-8 form, has no size prefix and reads as version 4", Ack1, 4, false },
        { "Ack₂, EIP-8 with version 4", Ack2, 4, true },
        { "Ack₃, EIP-8 with version 57 and three more list elements, which are ignored", Ack3, 57, true },
    };

    [Theory]
    [MemberData(nameof(Auths))]
    public async Task An_auth_vector_decrypts_with_B_key_and_proves_A_and_its_ephemeral_key(string because, byte[] packet, ulong version, bool eip8)
    {
        using var keyA = NodeKey.FromBytes(StaticKeyA);
        using var keyB = NodeKey.FromBytes(StaticKeyB);
        var stream = new MemoryStream(packet);

        var read = await RlpxHandshake.ReadPacketAsync(stream, keyB.PrivateKey, RlpxHandshake.PlainAuthPacketSize, CancellationToken.None);
        var auth = AuthMessage.Decode(read.Plaintext, read.IsEip8);
        var ephemeral = RlpxHandshake.RecoverInitiatorEphemeral(auth, keyB.PrivateKey, out _);

        Assert.True(packet.AsSpan().SequenceEqual(read.Bytes), because);
        Assert.Equal(packet.Length, stream.Position);
        Assert.Equal(eip8, auth.IsEip8);
        Assert.Equal(version, auth.Version);
        Assert.Equal(keyA.Id, auth.InitiatorId);
        Assert.Equal(NonceA, auth.Nonce);
        Assert.Equal(IdOf(EphemeralKeyA), NodeId.FromPublicKey(ephemeral));
    }

    [Theory]
    [MemberData(nameof(Acks))]
    public async Task An_ack_vector_decrypts_with_A_key_and_carries_B_ephemeral_key_and_nonce(string because, byte[] packet, ulong version, bool eip8)
    {
        using var keyA = NodeKey.FromBytes(StaticKeyA);
        var stream = new MemoryStream(packet);

        var read = await RlpxHandshake.ReadPacketAsync(stream, keyA.PrivateKey, RlpxHandshake.PlainAckPacketSize, CancellationToken.None);
        var ack = AckMessage.Decode(read.Plaintext, read.IsEip8);

        Assert.True(packet.AsSpan().SequenceEqual(read.Bytes), because);
        Assert.Equal(packet.Length, stream.Position);
        Assert.Equal(eip8, ack.IsEip8);
        Assert.Equal(version, ack.Version);
        Assert.Equal(IdOf(EphemeralKeyB), ack.EphemeralId);
        Assert.Equal(NonceB, ack.Nonce);
    }

    [Fact]
    public async Task B_derives_the_aes_secret_mac_secret_and_ingress_mac_of_foo_that_EIP_8_lists_for_Auth2_and_Ack2()
    {
        using var keyB = NodeKey.FromBytes(StaticKeyB);
        using var ephemeralB = Key(EphemeralKeyB);
        var read = await RlpxHandshake.ReadPacketAsync(new MemoryStream(Auth2), keyB.PrivateKey, RlpxHandshake.PlainAuthPacketSize, CancellationToken.None);
        var auth = AuthMessage.Decode(read.Plaintext, read.IsEip8);
        var ephemeralA = RlpxHandshake.RecoverInitiatorEphemeral(auth, keyB.PrivateKey, out _);

        var secrets = RlpxHandshake.DeriveSecrets(initiator: false, ephemeralB, ephemeralA, auth.Nonce, NonceB, Auth2, Ack2, auth.InitiatorId);
        secrets.IngressMac.Update("foo"u8);
        var foo = new byte[32];
        secrets.IngressMac.Digest(foo);

        Assert.Equal(AesSecret, secrets.AesSecret);
        Assert.Equal(MacSecret, secrets.MacSecret);
        Assert.Equal(IngressMacOfFoo, foo);
    }

    [Fact]
    public void A_derives_the_same_secrets_as_B_and_its_egress_MAC_is_B_ingress_MAC()
    {
        using var ephemeralA = Key(EphemeralKeyA);
        using var ephemeralB = Key(EphemeralKeyB);
        using var keyB = NodeKey.FromBytes(StaticKeyB);

        var a = RlpxHandshake.DeriveSecrets(initiator: true, ephemeralA, ephemeralB.CreatePubKey(), NonceA, NonceB, Auth2, Ack2, keyB.Id);
        var b = RlpxHandshake.DeriveSecrets(initiator: false, ephemeralB, ephemeralA.CreatePubKey(), NonceA, NonceB, Auth2, Ack2, default);
        var (egressA, ingressA, egressB, ingressB) = (new byte[32], new byte[32], new byte[32], new byte[32]);
        a.EgressMac.Digest(egressA);
        a.IngressMac.Digest(ingressA);
        b.EgressMac.Digest(egressB);
        b.IngressMac.Digest(ingressB);

        Assert.Equal(AesSecret, a.AesSecret);
        Assert.Equal(MacSecret, a.MacSecret);
        Assert.Equal(ingressB, egressA);
        Assert.Equal(egressB, ingressA);
        Assert.NotEqual(egressA, ingressA);
    }

    [Fact]
    public async Task Our_EIP_8_auth_reads_back_with_the_recipient_key_and_proves_our_ephemeral_key()
    {
        using var keyA = NodeKey.FromBytes(StaticKeyA);
        using var keyB = NodeKey.FromBytes(StaticKeyB);
        using var ephemeral = Key(EphemeralKeyA);
        Assert.True(keyB.Id.TryGetPublicKey(out var publicB));

        var auth = RlpxHandshake.CreateAuth(keyA.PrivateKey, keyA.Id, publicB, ephemeral, NonceA);
        var packet = RlpxHandshake.SealEip8(auth.EncodeEip8(), publicB);
        var read = await RlpxHandshake.ReadPacketAsync(new MemoryStream(packet), keyB.PrivateKey, RlpxHandshake.PlainAuthPacketSize, CancellationToken.None);
        var decoded = AuthMessage.Decode(read.Plaintext, read.IsEip8);
        var recovered = RlpxHandshake.RecoverInitiatorEphemeral(decoded, keyB.PrivateKey, out _);

        Assert.True(read.IsEip8);
        // 100 to 199 bytes of padding (geth's amount) make it longer than any pre-EIP-8 auth (EIP-8).
        Assert.InRange(read.Plaintext.Length - auth.EncodeEip8().Length, 100, 199);
        Assert.True(packet.Length > RlpxHandshake.PlainAuthPacketSize, $"{packet.Length} bytes");
        Assert.Equal(keyA.Id, decoded.InitiatorId);
        Assert.Equal(NonceA, decoded.Nonce);
        Assert.Equal(AuthMessage.CurrentVersion, decoded.Version);
        Assert.Equal(IdOf(EphemeralKeyA), NodeId.FromPublicKey(recovered));
    }

    [Fact]
    public async Task A_recipient_answers_the_pre_EIP_8_Auth1_with_a_pre_EIP_8_ack_that_A_can_read()
    {
        using var keyA = NodeKey.FromBytes(StaticKeyA);
        using var keyB = NodeKey.FromBytes(StaticKeyB);
        var stream = new ScriptedStream(Auth1);

        var secrets = await RlpxHandshake.RespondAsync(stream, keyB, CancellationToken.None);
        var ackPacket = stream.Written.ToArray();
        var read = await RlpxHandshake.ReadPacketAsync(new MemoryStream(ackPacket), keyA.PrivateKey, RlpxHandshake.PlainAckPacketSize, CancellationToken.None);

        Assert.Equal(keyA.Id, secrets.RemoteId);
        Assert.Equal(RlpxHandshake.PlainAckPacketSize, ackPacket.Length);
        Assert.False(read.IsEip8);
        Assert.Equal(AckMessage.PlainSize, read.Plaintext.Length);
    }

    [Fact]
    public async Task A_pre_EIP_8_auth_whose_ephemeral_hash_disagrees_with_its_signature_is_refused()
    {
        using var keyA = NodeKey.FromBytes(StaticKeyA);
        using var keyB = NodeKey.FromBytes(StaticKeyB);
        var read = await RlpxHandshake.ReadPacketAsync(new MemoryStream(Auth1), keyB.PrivateKey, RlpxHandshake.PlainAuthPacketSize, CancellationToken.None);
        var auth = AuthMessage.Decode(read.Plaintext, read.IsEip8) with { EphemeralHash = Hash256.Zero };

        var error = Assert.Throws<RlpxProtocolException>(() => RlpxHandshake.RecoverInitiatorEphemeral(auth, keyB.PrivateKey, out _));

        Assert.Equal(RlpxErrorKind.BadHandshake, error.Kind);
    }

    [Fact]
    public async Task An_auth_whose_signature_was_made_over_another_nonce_proves_another_ephemeral_key()
    {
        using var keyB = NodeKey.FromBytes(StaticKeyB);
        var read = await RlpxHandshake.ReadPacketAsync(new MemoryStream(Auth2), keyB.PrivateKey, RlpxHandshake.PlainAuthPacketSize, CancellationToken.None);
        var auth = AuthMessage.Decode(read.Plaintext, read.IsEip8) with { Nonce = NonceB };

        var recovered = NodeId.FromPublicKey(RlpxHandshake.RecoverInitiatorEphemeral(auth, keyB.PrivateKey, out _));

        // A wrong key, and hence secrets that match nobody's: the first frame's MAC then fails (rlpx.md, step 9).
        Assert.NotEqual(IdOf(EphemeralKeyA), recovered);
    }

    private static NodeId IdOf(byte[] privateKey)
    {
        using var key = ECPrivKey.Create(privateKey);
        return NodeId.FromPublicKey(key.CreatePubKey());
    }
}
