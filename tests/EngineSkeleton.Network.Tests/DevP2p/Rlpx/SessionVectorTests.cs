using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Rlpx;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>
/// A whole pre-EIP-8 session from cpp-ethereum's RLPx test (test/rlpx.cpp; the same values serve pydevp2p and others):
/// auth and ack, the derived secrets, the initial MAC states and each side's first frame, a Hello. The only published
/// values that check the frame MAC construction and the AES-256-CTR of frames against another implementation; EIP-8's
/// vectors stop at the MAC states and geth's frame vector replaces the MAC with a constant.
/// </summary>
public sealed class SessionVectorTests
{
    private static readonly byte[] InitiatorKey = Convert.FromHexString("5e173f6ac3c669587538e7727cf19b782a4f2fda07c1eaa662c593e5e85e3051");

    private static readonly byte[] ReceiverKey = Convert.FromHexString("c45f950382d542169ea207959ee0220ec1491755abe405cd7498d6b16adb6df8");

    private static readonly byte[] InitiatorEphemeralKey = Convert.FromHexString("19c2185f4f40634926ebed3af09070ca9e029f2edd5fae6253074896205f5f6c");

    private static readonly byte[] ReceiverEphemeralKey = Convert.FromHexString("d25688cf0ab10afa1a0e2dba7853ed5f1e5bf1c631757ed4e103b593ff3f5620");

    private static readonly Hash256 InitiatorNonce = Hash256.FromHex("0xcd26fecb93657d1cd9e9eaf4f8be720b56dd1d39f190c4e1c6b7ec66f077bb11");

    private static readonly Hash256 ReceiverNonce = Hash256.FromHex("0xf37ec61d84cea03dcc5e8385db93248584e8af4b4d1c832d8c7453c0089687a7");

    /// <summary>The auth plaintext after its signature (which depends on the signer's k): hash, key, nonce, flag.</summary>
    private static readonly byte[] AuthPlaintextAfterSignature = Convert.FromHexString(
        "34fdb5419558137e0d44cd13d319afe5629eeccb47fd9dfe55cc6089426e46cc762dd8a0636e07a54b31169eba0c7a20a1ac1ef68596f1f283b5c676bae4064a"
        + "bfcce24799d09f67e392632d3ffdc12e3d6430dcb0ea19c318343ffa7aae74d4cd26fecb93657d1cd9e9eaf4f8be720b56dd1d39f190c4e1c6b7ec66f077bb11"
        + "00");

    private static readonly byte[] AuthCiphertext = Convert.FromHexString(
        "04a0274c5951e32132e7f088c9bdfdc76c9d91f0dc6078e848f8e3361193dbdc43b94351ea3d89e4ff33ddcefbc80070498824857f499656c4f79bbd97b6c51a"
        + "514251d69fd1785ef8764bd1d262a883f780964cce6a14ff206daf1206aa073a2d35ce2697ebf3514225bef186631b2fd2316a4b7bcdefec8d75a1025ba2c540"
        + "4a34e7795e1dd4bc01c6113ece07b0df13b69d3ba654a36e35e69ff9d482d88d2f0228e7d96fe11dccbb465a1831c7d4ad3a026924b182fc2bdfe016a6944312"
        + "021da5cc459713b13b86a686cf34d6fe6615020e4acf26bf0d5b7579ba813e7723eb95b3cef9942f01a58bd61baee7c9bdd438956b426a4ffe238e61746a8c93"
        + "d5e10680617c82e48d706ac4953f5e1c4c4f7d013c87d34a06626f498f34576dc017fdd3d581e83cfd26cf125b6d2bda1f1d56");

    private static readonly byte[] AckPlaintext = Convert.FromHexString(
        "802b052f8b066640bba94a4fc39d63815c377fced6fcb84d27f791c9921ddf3e9bf0108e298f490812847109cbd778fae393e80323fd643209841a3b7f110397"
        + "f37ec61d84cea03dcc5e8385db93248584e8af4b4d1c832d8c7453c0089687a700");

    private static readonly byte[] AckCiphertext = Convert.FromHexString(
        "049934a7b2d7f9af8fd9db941d9da281ac9381b5740e1f64f7092f3588d4f87f5ce55191a6653e5e80c1c5dd538169aa123e70dc6ffc5af1827e546c0e958e42"
        + "dad355bcc1fcb9cdf2cf47ff524d2ad98cbf275e661bf4cf00960e74b5956b799771334f426df007350b46049adb21a6e78ab1408d5e6ccde6fb5e69f0f4c92b"
        + "b9c725c02f99fa72b9cdc8dd53cff089e0e73317f61cc5abf6152513cb7d833f09d2851603919bf0fbe44d79a09245c6e8338eb502083dc84b846f2fee1cc310"
        + "d2cc8b1b9334728f97220bb799376233e113");

    private static readonly byte[] AesSecret = Convert.FromHexString("c0458fa97a5230830e05f4f20b7c755c1d4e54b1ce5cf43260bb191eef4e418d");

    private static readonly byte[] MacSecret = Convert.FromHexString("48c938884d5067a1598272fcddaa4b833cd5e7d92e8228c0ecdfabbe68aef7f1");

    /// <summary>The initiator's egress MAC digest before any frame.</summary>
    private static readonly byte[] InitialEgressMac = Convert.FromHexString("09771e93b1a6109e97074cbe2d2b0cf3d3878efafe68f53c41bb60c0ec49097e");

    /// <summary>The initiator's ingress MAC digest before any frame.</summary>
    private static readonly byte[] InitialIngressMac = Convert.FromHexString("75823d96e23136c89666ee025fb21a432be906512b3dd4a3049e898adb433847");

    private static readonly byte[] InitiatorHelloPacket = Convert.FromHexString(
        "6ef23fcf1cec7312df623f9ae701e63b550cdb8517fefd8dd398fc2acd1d935e6e0434a2b96769078477637347b7b01924fff9ff1c06df2f804df3b0402bbb9f"
        + "87365b3c6856b45e1e2b6470986813c3816a71bff9d69dd297a5dbd935ab578f6e5d7e93e4506a44f307c332d95e8a4b102585fd8ef9fc9e3e055537a5cec2e9");

    private static readonly byte[] ReceiverHelloPacket = Convert.FromHexString(
        "6ef23fcf1cec7312df623f9ae701e63be36a1cdd1b19179146019984f3625d4a6e0434a2b96769050577657247b7b02bc6c314470eca7e3ef650b98c83e9d7dd"
        + "4830b3f718ff562349aead2530a8d28a8484604f92e5fced2c6183f304344ab0e7c301a0c05559f4c25db65e36820b4b909a226171a60ac6cb7beea09376d6d8");

    [Fact]
    public async Task The_receiver_reads_the_pre_EIP_8_auth_and_ack_decrypts_for_the_initiator()
    {
        using var initiator = NodeKey.FromBytes(InitiatorKey);
        using var receiver = NodeKey.FromBytes(ReceiverKey);

        var auth = await RlpxHandshake.ReadPacketAsync(new MemoryStream(AuthCiphertext), receiver.PrivateKey, RlpxHandshake.PlainAuthPacketSize, CancellationToken.None);
        var ack = await RlpxHandshake.ReadPacketAsync(new MemoryStream(AckCiphertext), initiator.PrivateKey, RlpxHandshake.PlainAckPacketSize, CancellationToken.None);
        var authMessage = AuthMessage.Decode(auth.Plaintext, auth.IsEip8);
        var ephemeral = RlpxHandshake.RecoverInitiatorEphemeral(authMessage, receiver.PrivateKey, out _);

        Assert.False(auth.IsEip8);
        Assert.Equal(AuthPlaintextAfterSignature, auth.Plaintext[Secp256k1Keys.SignatureSize..]);
        Assert.Equal(initiator.Id, authMessage.InitiatorId);
        Assert.Equal(InitiatorNonce, authMessage.Nonce);
        Assert.Equal(PublicId(InitiatorEphemeralKey), NodeId.FromPublicKey(ephemeral));
        Assert.False(ack.IsEip8);
        Assert.Equal(AckPlaintext, ack.Plaintext);
    }

    [Fact]
    public void Both_sides_derive_the_published_secrets_and_initial_MAC_digests()
    {
        var (initiatorSecrets, receiverSecrets) = Secrets();

        Assert.Equal(AesSecret, receiverSecrets.AesSecret);
        Assert.Equal(MacSecret, receiverSecrets.MacSecret);
        Assert.Equal(AesSecret, initiatorSecrets.AesSecret);
        Assert.Equal(InitialEgressMac, Digest(initiatorSecrets.EgressMac));
        Assert.Equal(InitialIngressMac, Digest(initiatorSecrets.IngressMac));
        Assert.Equal(InitialEgressMac, Digest(receiverSecrets.IngressMac));
        Assert.Equal(InitialIngressMac, Digest(receiverSecrets.EgressMac));
    }

    [Theory]
    [InlineData("the receiver opens the initiator's first frame", false)]
    [InlineData("the initiator opens the receiver's first frame", true)]
    public async Task Each_side_opens_the_other_side_first_frame_a_Hello_checking_both_MACs(string because, bool asInitiator)
    {
        var (initiatorSecrets, receiverSecrets) = Secrets();
        using var key = NodeKey.Generate();
        var packet = asInitiator ? ReceiverHelloPacket : InitiatorHelloPacket;
        await using var connection = new RlpxConnection(new ScriptedStream(packet), key, asInitiator ? initiatorSecrets : receiverSecrets);

        var message = await connection.ReadMessageAsync(CancellationToken.None);
        var hello = Hello.Decode(message.Payload.Span);

        Assert.True(P2pMessageCodes.Hello == message.Code, because);
        Assert.Equal(3UL, hello.ProtocolVersion);
        Assert.Equal(asInitiator ? PublicId(ReceiverKey) : PublicId(InitiatorKey), hello.NodeId);
    }

    private static (HandshakeSecrets Initiator, HandshakeSecrets Receiver) Secrets()
    {
        using var initiatorEphemeral = ECPrivKey.Create(InitiatorEphemeralKey);
        using var receiverEphemeral = ECPrivKey.Create(ReceiverEphemeralKey);
        var initiator = RlpxHandshake.DeriveSecrets(
            initiator: true, initiatorEphemeral, receiverEphemeral.CreatePubKey(), InitiatorNonce, ReceiverNonce, AuthCiphertext, AckCiphertext, PublicId(ReceiverKey));
        var receiver = RlpxHandshake.DeriveSecrets(
            initiator: false, receiverEphemeral, initiatorEphemeral.CreatePubKey(), InitiatorNonce, ReceiverNonce, AuthCiphertext, AckCiphertext, PublicId(InitiatorKey));
        return (initiator, receiver);
    }

    private static byte[] Digest(IMacState state)
    {
        var digest = new byte[32];
        state.Digest(digest);
        return digest;
    }

    private static NodeId PublicId(byte[] privateKey)
    {
        using var key = ECPrivKey.Create(privateKey);
        return NodeId.FromPublicKey(key.CreatePubKey());
    }
}
