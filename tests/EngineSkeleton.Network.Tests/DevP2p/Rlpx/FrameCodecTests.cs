using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

public sealed class FrameCodecTests
{
    /// <summary>geth p2p/rlpx/rlpx_test.go TestFrameReadWrite: message 8 with payload [1, 2, 3, 4].</summary>
    private static readonly byte[] GethGolden = Convert.FromHexString(
        "00828ddae471818bb0bfa6b551d1cb42" + "01010101010101010101010101010101" + "ba628a4ba590cb43f7848f41c4382885" + "01010101010101010101010101010101");

    private static readonly byte[] GethFrameData = Convert.FromHexString("08c401020304");

    [Fact]
    public void Sealing_message_8_with_geth_test_secrets_gives_geth_golden_frame()
    {
        using var codec = GethTestCodec();
        var buffer = new byte[FrameCodec.SealedSize(GethFrameData.Length)];
        GethFrameData.CopyTo(buffer, FrameCodec.SealedHeaderSize);

        var length = codec.Seal(buffer, GethFrameData.Length);

        Assert.Equal(GethGolden.Length, length);
        Assert.Equal(Convert.ToHexStringLower(GethGolden), Convert.ToHexStringLower(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void Opening_geth_golden_frame_gives_message_8_with_payload_1_2_3_4()
    {
        using var codec = GethTestCodec();
        var frame = GethGolden.ToArray();

        var size = codec.OpenHeader(frame.AsSpan(0, FrameCodec.SealedHeaderSize));
        codec.OpenFrame(frame.AsSpan(FrameCodec.SealedHeaderSize));

        Assert.Equal(GethFrameData.Length, size);
        Assert.Equal(GethFrameData, frame.AsSpan(FrameCodec.SealedHeaderSize, size).ToArray());
    }

    public static TheoryData<string, int> Sizes => new()
    {
        { "an empty frame still has a header and a MAC", 0 },
        { "one byte pads to a block", 1 },
        { "fifteen bytes pad to a block", 15 },
        { "a full block needs no padding", 16 },
        { "one byte over a block pads to two", 17 },
        { "a larger frame spans many key stream batches", 70_001 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Frames_sealed_by_one_side_open_on_the_other_one_after_another(string because, int size)
    {
        var (a, b) = Sessions.Mirrored(default, default);
        using var sender = new FrameCodec(a);
        using var receiver = new FrameCodec(b);
        for (var round = 0; round < 3; round++)
        {
            var data = new byte[size];
            Random.Shared.NextBytes(data);
            var buffer = new byte[FrameCodec.SealedSize(size)];
            data.CopyTo(buffer, FrameCodec.SealedHeaderSize);

            var length = sender.Seal(buffer, size);
            var opened = receiver.OpenHeader(buffer.AsSpan(0, FrameCodec.SealedHeaderSize));
            receiver.OpenFrame(buffer.AsSpan(FrameCodec.SealedHeaderSize, length - FrameCodec.SealedHeaderSize));

            Assert.Equal(size, opened);
            Assert.True(data.AsSpan().SequenceEqual(buffer.AsSpan(FrameCodec.SealedHeaderSize, size)), because);
        }
    }

    public static TheoryData<string, int> TamperedBytes => new()
    {
        { "a flipped bit in the header ciphertext fails the header MAC", 3 },
        { "a flipped bit in the header MAC fails it", FrameCodec.HeaderSize + 5 },
        { "a flipped bit in the frame ciphertext fails the frame MAC", FrameCodec.SealedHeaderSize + 2 },
        { "a flipped bit in the frame MAC fails it", FrameCodec.SealedHeaderSize + 16 + 7 },
    };

    [Theory]
    [MemberData(nameof(TamperedBytes))]
    public void A_tampered_frame_is_refused_with_BadMac(string because, int offset)
    {
        var (a, b) = Sessions.Mirrored(default, default);
        using var sender = new FrameCodec(a);
        using var receiver = new FrameCodec(b);
        var buffer = new byte[FrameCodec.SealedSize(10)];
        var length = sender.Seal(buffer, 10);
        buffer[offset] ^= 0x10;

        var error = Assert.Throws<RlpxProtocolException>(() =>
        {
            receiver.OpenHeader(buffer.AsSpan(0, FrameCodec.SealedHeaderSize));
            receiver.OpenFrame(buffer.AsSpan(FrameCodec.SealedHeaderSize, length - FrameCodec.SealedHeaderSize));
        });

        Assert.Equal(RlpxErrorKind.BadMac, error.Kind);
        Assert.Contains("MAC", error.Message, StringComparison.Ordinal);
        Assert.NotNull(because);
    }

    [Fact]
    public void A_frame_replayed_after_the_next_one_fails_because_the_MAC_state_moved_on()
    {
        var (a, b) = Sessions.Mirrored(default, default);
        using var sender = new FrameCodec(a);
        using var receiver = new FrameCodec(b);
        var first = new byte[FrameCodec.SealedSize(4)];
        sender.Seal(first, 4);
        var replay = first.ToArray();
        receiver.OpenHeader(first.AsSpan(0, FrameCodec.SealedHeaderSize));
        receiver.OpenFrame(first.AsSpan(FrameCodec.SealedHeaderSize));

        var error = Assert.Throws<RlpxProtocolException>(() => receiver.OpenHeader(replay.AsSpan(0, FrameCodec.SealedHeaderSize)));

        Assert.Equal(RlpxErrorKind.BadMac, error.Kind);
    }

    /// <summary>geth's test secrets: aes- and mac-secret keccak256(""), MACs a fake hash whose digest is always 32 × 0x01.</summary>
    private static FrameCodec GethTestCodec()
    {
        var secret = Keccak256.OfEmpty.ToArray();
        var ones = Enumerable.Repeat((byte)1, 32).ToArray();
        return new FrameCodec(secret, secret, new ConstantMacState(ones), new ConstantMacState(ones));
    }
}
