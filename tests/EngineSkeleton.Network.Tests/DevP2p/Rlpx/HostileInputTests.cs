using System.Security.Cryptography;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>
/// What a hostile or broken peer can send, and that each is refused with the right <see cref="RlpxErrorKind"/>
/// before we allocate what it claims. The streams are in memory and complete synchronously, so the whole read runs on
/// the test's thread and <see cref="GC.GetAllocatedBytesForCurrentThread"/> counts what it allocated.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly NodeKey _keyA = NodeKey.Generate();
    private readonly NodeKey _keyB = NodeKey.Generate();

    public void Dispose()
    {
        _keyA.Dispose();
        _keyB.Dispose();
    }

    public static TheoryData<string, byte[]> GarbageAuths => new()
    {
        { "random bytes with a plausible size prefix do not decrypt", [0x01, 0xf4, .. RandomNumberGenerator.GetBytes(500)] },
        { "a size prefix of 64 KiB is refused from the prefix, not read", [0xff, 0xff, .. RandomNumberGenerator.GetBytes(305)] },
        { "a size prefix too small for any EIP-8 packet", [0x00, 0x20, .. RandomNumberGenerator.GetBytes(305)] },
        { "a real Auth₂ sent to a node with another key does not decrypt", Eip8Vectors.Auth2 },
    };

    [Theory]
    [MemberData(nameof(GarbageAuths))]
    public async Task A_garbage_auth_fails_the_handshake_with_BadHandshake(string because, byte[] input)
    {
        await using var recipient = new RlpxConnection(new ScriptedStream(input), _keyB);

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => recipient.HandshakeAsRecipientAsync(CancellationToken.None));

        Assert.Equal(RlpxErrorKind.BadHandshake, error.Kind);
        Assert.False(recipient.IsHandshakeComplete, because);
    }

    [Fact]
    public async Task A_peer_that_closes_during_the_handshake_is_an_end_of_stream_not_a_protocol_error()
    {
        await using var recipient = new RlpxConnection(new ScriptedStream(Eip8Vectors.Auth2[..100]), _keyB);

        await Assert.ThrowsAsync<EndOfStreamException>(() => recipient.HandshakeAsRecipientAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_frame_with_a_bad_MAC_is_refused_and_the_reading_side_stays_closed()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var frames = Sessions.Frames(a, compressed: false, (0x10, [0xc0]));
        frames[FrameCodec.SealedHeaderSize] ^= 0x01;
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());

        Assert.Equal(RlpxErrorKind.BadMac, error.Kind);
        Assert.Equal(DisconnectReason.BreachOfProtocol, error.DisconnectReason);
        Assert.Contains("earlier read", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_bad_frame_the_writing_side_can_still_send_Disconnect()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var frames = Sessions.Frames(a, compressed: false, (0x10, [0xc0]));
        frames[3] ^= 0x01;
        var stream = new ScriptedStream(frames);
        await using var receiver = new RlpxConnection(stream, _keyB, b);
        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());

        await receiver.SendDisconnectAsync(error.DisconnectReason, CancellationToken.None);

        await using var sender = new RlpxConnection(new ScriptedStream(stream.Written.ToArray()), _keyA, a);
        var disconnect = await sender.ReadMessageAsync(CancellationToken.None);
        Assert.Equal(P2pMessageCodes.Disconnect, disconnect.Code);
        Assert.Equal(DisconnectReason.BreachOfProtocol, P2pMessages.DecodeDisconnect(disconnect.Payload.Span));
    }

    [Fact]
    public async Task A_frame_header_claiming_the_largest_24_bit_size_is_refused_from_the_header_under_eth_10_MiB_limit()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        using var sender = new FrameCodec(a);
        var header = new byte[FrameCodec.SealedHeaderSize];
        sender.SealHeader(header, FrameCodec.MaxFrameSize);
        // Only the header: a receiver that went on to read the body would hit the end of the stream instead.
        await using var receiver = new RlpxConnection(new ScriptedStream(header), _keyB, b, new RlpxOptions { MaxMessageSize = 10 * 1024 * 1024 });
        receiver.EnableCompression();
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(RlpxErrorKind.FrameTooLarge, error.Kind);
        Assert.Contains("16777215", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task A_frame_header_claiming_more_than_an_uncompressed_message_can_take_is_refused_before_compression_is_on()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        using var sender = new FrameCodec(a);
        var header = new byte[FrameCodec.SealedHeaderSize];
        sender.SealHeader(header, 2 * 1024 * 1024);
        await using var receiver = new RlpxConnection(new ScriptedStream(header), _keyB, b, new RlpxOptions { MaxMessageSize = 1024 * 1024 });

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());

        Assert.Equal(RlpxErrorKind.FrameTooLarge, error.Kind);
    }

    [Fact]
    public void The_frame_limit_never_exceeds_what_the_24_bit_field_holds_and_grows_with_compression()
    {
        Assert.Equal(FrameCodec.MaxFrameSize, RlpxConnection.MaxFrameSize(FrameCodec.MaxFrameSize, compressed: true));
        Assert.Equal(FrameCodec.MaxFrameSize, RlpxConnection.MaxFrameSize(FrameCodec.MaxFrameSize, compressed: false));
        Assert.Equal(9 + 2048, RlpxConnection.MaxFrameSize(Hello.MaxSize, compressed: false));
        Assert.True(RlpxConnection.MaxFrameSize(Hello.MaxSize, compressed: true) > 9 + 2048);
    }

    [Fact]
    public async Task A_Snappy_block_claiming_1_GiB_decompressed_is_refused_without_allocating_it()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        // Snappy's preamble is the uncompressed length as a varint: 2^30 is 80 80 80 80 04; then a few literal bytes.
        byte[] bomb = [0x80, 0x80, 0x80, 0x80, 0x04, 0x0c, 0x61, 0x62, 0x63, 0x64];
        var frames = Sessions.Frames(a, compressed: false, (0x10, bomb));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);
        receiver.EnableCompression();
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(RlpxErrorKind.MessageTooLarge, error.Kind);
        Assert.Contains("1073741824", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }

    public static TheoryData<string, byte[], RlpxErrorKind> BadCompressedPayloads => new()
    {
        { "one byte over the 1 MiB limit, announced (varint 81 80 40 is 1,048,577)", [0x81, 0x80, 0x40, 0x00], RlpxErrorKind.MessageTooLarge },
        { "a length whose varint never ends", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], RlpxErrorKind.BadCompression },
        { "a literal that runs past the end of the block", [0x10, 0x3c, 0x61], RlpxErrorKind.BadCompression },
        { "a copy that reaches back before the start", [0x10, 0x0d, 0x01], RlpxErrorKind.BadCompression },
    };

    [Theory]
    [MemberData(nameof(BadCompressedPayloads))]
    public void A_bad_Snappy_payload_is_refused_with_the_kind_that_names_its_fault(string because, byte[] snappy, RlpxErrorKind kind)
    {
        var limit = 1024 * 1024;
        byte[] frame = [0x10, .. snappy];

        var error = Assert.Throws<RlpxProtocolException>(() => RlpxConnection.DecodeMessage(frame, limit, compressed: true));

        Assert.True(kind == error.Kind, $"{because}: {error.Kind} {error.Message}");
    }

    [Fact]
    public void A_message_code_that_is_not_a_canonical_integer_is_a_bad_message()
    {
        var error = Assert.Throws<RlpxProtocolException>(() => RlpxConnection.DecodeMessage([0x00, 0xc0], 1024, compressed: false));

        Assert.Equal(RlpxErrorKind.BadMessage, error.Kind);
    }

    [Fact]
    public async Task A_Hello_over_2_KiB_is_refused_from_its_frame_header()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var huge = new Hello { ClientId = new string('x', 3000), Capabilities = [], NodeId = _keyA.Id };
        var frames = Sessions.Frames(a, compressed: false, (P2pMessageCodes.Hello, huge.Encode()));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ExchangeHelloAsync(OurHello(_keyB), CancellationToken.None));

        Assert.Equal(RlpxErrorKind.FrameTooLarge, error.Kind);
        Assert.False(receiver.IsCompressionEnabled);
    }

    [Fact]
    public async Task A_Hello_one_byte_over_2_KiB_that_fits_its_frame_limit_is_refused_by_size()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var frames = Sessions.Frames(a, compressed: false, (P2pMessageCodes.Hello, new byte[Hello.MaxSize + 1]));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ExchangeHelloAsync(OurHello(_keyB), CancellationToken.None));

        Assert.Equal(RlpxErrorKind.MessageTooLarge, error.Kind);
    }

    [Fact]
    public async Task A_Hello_naming_another_node_than_the_handshake_proved_is_an_unexpected_identity()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        using var impostor = NodeKey.Generate();
        var frames = Sessions.Frames(a, compressed: false, (P2pMessageCodes.Hello, OurHello(impostor).Encode()));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ExchangeHelloAsync(OurHello(_keyB), CancellationToken.None));

        Assert.Equal(RlpxErrorKind.UnexpectedIdentity, error.Kind);
        Assert.Equal(DisconnectReason.UnexpectedIdentity, error.DisconnectReason);
    }

    [Fact]
    public async Task A_Disconnect_instead_of_Hello_is_reported_with_its_reason()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var frames = Sessions.Frames(a, compressed: false, (P2pMessageCodes.Disconnect, P2pMessages.EncodeDisconnect(DisconnectReason.TooManyPeers)));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);

        var error = await Assert.ThrowsAsync<RlpxDisconnectedException>(() => receiver.ExchangeHelloAsync(OurHello(_keyB), CancellationToken.None));

        Assert.Equal(DisconnectReason.TooManyPeers, error.Reason);
    }

    [Fact]
    public async Task A_sub_protocol_message_before_Hello_is_a_bad_message()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var frames = Sessions.Frames(a, compressed: false, (0x10, [0xc0]));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b);

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ExchangeHelloAsync(OurHello(_keyB), CancellationToken.None));

        Assert.Equal(RlpxErrorKind.BadMessage, error.Kind);
    }

    [Fact]
    public async Task An_uncompressed_message_over_the_limit_is_refused()
    {
        var (a, b) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var frames = Sessions.Frames(a, compressed: false, (0x10, new byte[4096]));
        await using var receiver = new RlpxConnection(new ScriptedStream(frames), _keyB, b, new RlpxOptions { MaxMessageSize = 4095 });

        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => receiver.ReadMessageAsync(CancellationToken.None).AsTask());

        Assert.Equal(RlpxErrorKind.MessageTooLarge, error.Kind);
    }

    [Fact]
    public async Task A_message_too_large_for_any_peer_is_refused_before_anything_is_written()
    {
        var (a, _) = Sessions.Mirrored(_keyA.Id, _keyB.Id);
        var stream = new ScriptedStream([]);
        await using var sender = new RlpxConnection(stream, _keyA, a);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => sender.WriteMessageAsync(0x10, new byte[FrameCodec.MaxFrameSize + 1], CancellationToken.None).AsTask());
        await sender.SendPingAsync(CancellationToken.None);

        Assert.Equal(FrameCodec.SealedSize(2), stream.Written.Length);
    }

    private static Hello OurHello(NodeKey key) => new() { ClientId = "EngineSkeleton/test", Capabilities = [new("eth", 69)], NodeId = key.Id };
}
