using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

public sealed class P2pMessageTests
{
    [Fact]
    public void EIP_8_Hello_with_additional_list_elements_decodes_and_ignores_them()
    {
        var hello = Hello.Decode(Eip8Vectors.HelloWithExtras);

        Assert.Equal(55UL, hello.ProtocolVersion);
        Assert.Equal("kneth/v0.91/plan9", hello.ClientId);
        Assert.Equal([new Capability("eth", 61), new Capability("mork", 22)], hello.Capabilities);
        Assert.Equal(9999UL, hello.ListenPort);
        Assert.StartsWith("fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc80", hello.NodeId.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Our_Hello_decodes_to_an_equal_Hello()
    {
        using var key = NodeKey.Generate();
        var hello = new Hello { ClientId = "EngineSkeleton/v0.1", Capabilities = [new("eth", 68), new("eth", 69)], ListenPort = 30303, NodeId = key.Id };

        var decoded = Hello.Decode(hello.Encode());

        Assert.Equal(hello, decoded);
        Assert.Equal(Hello.CurrentProtocolVersion, decoded.ProtocolVersion);
        Assert.NotEqual(hello, decoded with { Capabilities = [new("eth", 68)] });
    }

    [Fact]
    public void A_Hello_whose_node_id_is_all_zeros_or_short_is_a_null_identity()
    {
        var zero = new Hello { ClientId = "x", Capabilities = [], NodeId = default }.Encode();
        var shortId = HelloWithId(new byte[63]);
        var longId = HelloWithId(new byte[65]);

        Assert.Equal(RlpxErrorKind.NullIdentity, Assert.Throws<RlpxProtocolException>(() => Hello.Decode(zero)).Kind);
        Assert.Equal(RlpxErrorKind.NullIdentity, Assert.Throws<RlpxProtocolException>(() => Hello.Decode(shortId)).Kind);
        Assert.Equal(RlpxErrorKind.NullIdentity, Assert.Throws<RlpxProtocolException>(() => Hello.Decode(longId)).Kind);
    }

    [Fact]
    public void A_Hello_that_is_not_RLP_or_has_bytes_after_its_list_is_malformed()
    {
        using var key = NodeKey.Generate();
        var good = new Hello { ClientId = "x", Capabilities = [], NodeId = key.Id }.Encode();

        Assert.Equal(RlpxErrorKind.BadMessage, Assert.Throws<RlpxProtocolException>(() => Hello.Decode(good[..^1])).Kind);
        Assert.Equal(RlpxErrorKind.BadMessage, Assert.Throws<RlpxProtocolException>(() => Hello.Decode([.. good, 0x01])).Kind);
        Assert.Equal(RlpxErrorKind.BadMessage, Assert.Throws<RlpxProtocolException>(() => Hello.Decode([0xc0])).Kind);
    }

    [Fact]
    public void A_capability_name_longer_than_eight_characters_is_not_sent()
    {
        using var key = NodeKey.Generate();
        var hello = new Hello { ClientId = "x", Capabilities = [new("ninechars", 1)], NodeId = key.Id };

        Assert.Throws<ArgumentException>(() => hello.Encode());
    }

    public static TheoryData<string, byte[], DisconnectReason?> Disconnects => new()
    {
        { "[reason], as rlpx.md writes it", [0xc1, 0x04], DisconnectReason.TooManyPeers },
        { "[0] is Requested (0 encodes as 0x80)", [0xc1, 0x80], DisconnectReason.Requested },
        { "a bare integer, which geth once sent by mistake", [0x10], DisconnectReason.SubprotocolReason },
        { "an empty list gives no reason", [0xc0], null },
        { "nothing gives no reason", [], null },
        { "garbage gives no reason rather than an error", [0xc5, 0x01], null },
        { "a value beyond a byte gives no reason", [0xc3, 0x82, 0x01, 0x00], null },
    };

    [Theory]
    [MemberData(nameof(Disconnects))]
    public void A_Disconnect_payload_gives_its_reason(string because, byte[] payload, DisconnectReason? expected)
    {
        Assert.True(expected == P2pMessages.DecodeDisconnect(payload), because);
    }

    [Fact]
    public void Our_Disconnect_is_a_list_of_the_reason()
    {
        Assert.Equal([0xc1, 0x09], P2pMessages.EncodeDisconnect(DisconnectReason.UnexpectedIdentity));
        Assert.Equal([0xc1, 0x80], P2pMessages.EncodeDisconnect(DisconnectReason.Requested));
    }

    /// <summary>[5, "x", [], 0, id] with an id of any length.</summary>
    private static byte[] HelloWithId(byte[] id)
    {
        var payload = 1 + 1 + 1 + 1 + RlpWriter.LengthOfBytes(id);
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        writer.WriteUInt64(5);
        writer.WriteBytes("x"u8);
        writer.WriteListHeader(0);
        writer.WriteUInt64(0);
        writer.WriteBytes(id);
        return output;
    }
}
