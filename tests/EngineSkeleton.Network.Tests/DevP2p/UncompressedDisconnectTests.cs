using EngineSkeleton.Network.DevP2p.Rlpx;
using Snappier;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>
/// ethereumjs's Disconnect after a v5 Hello: not Snappy-compressed, the reason a bare integer (the fixture
/// README's snags). The reader tries Snappy, then takes the bytes as sent, for Disconnect only.
/// </summary>
public sealed class UncompressedDisconnectTests
{
    public static TheoryData<string, byte[], DisconnectReason> Payloads => new()
    {
        { "a bare integer, uncompressed (ethereumjs)", [0x08], DisconnectReason.ClientQuitting },
        { "a one-item list, uncompressed", [0xc1, 0x10], DisconnectReason.SubprotocolReason },
        { "a one-item list, compressed (geth, us)", Snappy.CompressToArray([0xc1, 0x04]), DisconnectReason.TooManyPeers },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void A_Disconnect_after_Hello_is_read_compressed_or_not(string because, byte[] data, DisconnectReason expected)
    {
        byte[] frame = [(byte)P2pMessageCodes.Disconnect, .. data];

        var message = RlpxConnection.DecodeMessage(frame, 1024, compressed: true);

        Assert.True(expected == P2pMessages.DecodeDisconnect(message.Payload.Span), because);
    }

    [Fact]
    public void Another_message_that_is_not_Snappy_is_still_refused()
    {
        byte[] frame = [(byte)P2pMessageCodes.Ping, 0xc1, 0x08];

        Assert.Throws<RlpxProtocolException>(() => RlpxConnection.DecodeMessage(frame, 1024, compressed: true));
    }
}
