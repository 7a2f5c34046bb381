using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using EngineSkeleton.Network.DevP2p.Rlpx;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>Two of our connections over loopback TCP (127.0.0.1, port 0): handshake, Hello, Ping/Pong, large messages.</summary>
public sealed class RlpxConnectionTests : IDisposable
{
    /// <summary>A guard against a hung test, never a timing assertion: every await is bounded by it.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly NodeKey _keyA = NodeKey.Generate();
    private readonly NodeKey _keyB = NodeKey.Generate();

    public void Dispose()
    {
        _keyA.Dispose();
        _keyB.Dispose();
    }

    [Fact]
    public async Task Two_nodes_handshake_exchange_Hello_ping_pong_and_send_1_MB_each_way_compressed()
    {
        var (a, b) = await ConnectAsync();
        await using var initiator = a;
        await using var recipient = b;

        var accepted = recipient.HandshakeAsRecipientAsync(CancellationToken.None);
        var dialled = await initiator.HandshakeAsInitiatorAsync(_keyB.Id, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(_keyB.Id, dialled);
        Assert.Equal(_keyA.Id, await accepted.WaitAsync(Hang));

        var helloFromA = initiator.ExchangeHelloAsync(Hello(_keyA, "A"), CancellationToken.None);
        var helloFromB = await recipient.ExchangeHelloAsync(Hello(_keyB, "B"), CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(Hello(_keyA, "A"), helloFromB);
        Assert.Equal(Hello(_keyB, "B"), await helloFromA.WaitAsync(Hang));
        Assert.True(initiator.IsCompressionEnabled);
        Assert.True(recipient.IsCompressionEnabled);
        await Assert.ThrowsAsync<InvalidOperationException>(() => initiator.ExchangeHelloAsync(Hello(_keyA, "A"), CancellationToken.None));

        await initiator.SendPingAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
        var ping = await recipient.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
        Assert.Equal(P2pMessageCodes.Ping, ping.Code);
        await recipient.SendPongAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
        Assert.Equal(P2pMessageCodes.Pong, (await initiator.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang)).Code);

        var random = RandomNumberGenerator.GetBytes(1_000_000);
        var repetitive = new byte[1_000_000];
        for (var i = 0; i < repetitive.Length; i++)
        {
            repetitive[i] = (byte)(i % 7);
        }
        var toB = recipient.ReadMessageAsync(CancellationToken.None).AsTask();
        await initiator.WriteMessageAsync(0x10, random, CancellationToken.None).AsTask().WaitAsync(Hang);
        var atB = await toB.WaitAsync(Hang);
        var toA = initiator.ReadMessageAsync(CancellationToken.None).AsTask();
        await recipient.WriteMessageAsync(0x11, repetitive, CancellationToken.None).AsTask().WaitAsync(Hang);
        var atA = await toA.WaitAsync(Hang);

        Assert.Equal(0x10UL, atB.Code);
        Assert.True(random.AsSpan().SequenceEqual(atB.Payload.Span));
        Assert.Equal(0x11UL, atA.Code);
        Assert.True(repetitive.AsSpan().SequenceEqual(atA.Payload.Span));
        Assert.True(atA.WireSize < 100_000, $"a repetitive megabyte took {atA.WireSize} bytes: not compressed");

        await recipient.SendDisconnectAsync(DisconnectReason.ClientQuitting, CancellationToken.None).AsTask().WaitAsync(Hang);
        var disconnect = await initiator.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
        Assert.Equal(P2pMessageCodes.Disconnect, disconnect.Code);
        Assert.Equal(DisconnectReason.ClientQuitting, P2pMessages.DecodeDisconnect(disconnect.Payload.Span));
    }

    [Fact]
    public async Task A_peer_speaking_p2p_version_4_gets_no_compression_either_way()
    {
        var (initiator, recipient) = await HandshakenAsync();
        await using var _ = initiator;
        await using var __ = recipient;

        var fromA = initiator.ExchangeHelloAsync(Hello(_keyA, "A") with { ProtocolVersion = 4 }, CancellationToken.None);
        await recipient.ExchangeHelloAsync(Hello(_keyB, "B"), CancellationToken.None).WaitAsync(Hang);
        await fromA.WaitAsync(Hang);
        var repetitive = new byte[10_000];
        var read = recipient.ReadMessageAsync(CancellationToken.None).AsTask();
        await initiator.WriteMessageAsync(0x10, repetitive, CancellationToken.None);
        var message = await read.WaitAsync(Hang);

        Assert.False(initiator.IsCompressionEnabled);
        Assert.False(recipient.IsCompressionEnabled);
        Assert.Equal(repetitive.Length, message.WireSize);
    }

    [Fact]
    public async Task Concurrent_writers_never_interleave_frames_and_each_writer_order_is_kept()
    {
        var (initiator, recipient) = await HandshakenAsync();
        await using var _ = initiator;
        await using var __ = recipient;
        const int Writers = 8;
        const int PerWriter = 50;

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                var payload = new byte[1 + Random.Shared.Next(20_000)];
                payload[0] = (byte)i;
                await initiator.WriteMessageAsync(0x10 + (ulong)w, payload, CancellationToken.None);
            }
        })).ToArray();
        var next = new int[Writers];
        for (var received = 0; received < Writers * PerWriter; received++)
        {
            var message = await recipient.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
            var writer = (int)(message.Code - 0x10);
            Assert.Equal(next[writer]++, message.Payload.Span[0]);
        }
        await Task.WhenAll(writers).WaitAsync(Hang);

        Assert.All(next, count => Assert.Equal(PerWriter, count));
    }

    [Fact]
    public async Task A_second_concurrent_reader_is_refused()
    {
        var (initiator, recipient) = await HandshakenAsync();
        await using var _ = initiator;
        await using var __ = recipient;
        var first = recipient.ReadMessageAsync(CancellationToken.None).AsTask();

        await Assert.ThrowsAsync<InvalidOperationException>(() => recipient.ReadMessageAsync(CancellationToken.None).AsTask());
        await initiator.SendPingAsync(CancellationToken.None);
        Assert.Equal(P2pMessageCodes.Ping, (await first.WaitAsync(Hang)).Code);
    }

    [Fact]
    public async Task Dialling_a_node_with_the_wrong_id_fails_at_the_recipient_which_cannot_decrypt_the_auth()
    {
        var (a, b) = await ConnectAsync();
        await using var initiator = a;
        await using var recipient = b;
        using var someoneElse = NodeKey.Generate();

        var dialling = initiator.HandshakeAsInitiatorAsync(someoneElse.Id, CancellationToken.None);
        var error = await Assert.ThrowsAsync<RlpxProtocolException>(() => recipient.HandshakeAsRecipientAsync(CancellationToken.None).WaitAsync(Hang));
        await recipient.DisposeAsync();

        Assert.Equal(RlpxErrorKind.BadHandshake, error.Kind);
        await Assert.ThrowsAnyAsync<IOException>(() => dialling.WaitAsync(Hang));
    }

    [Fact]
    public async Task A_handshake_with_a_silent_peer_times_out_after_the_handshake_timeout_on_the_given_clock()
    {
        var time = new FakeTimeProvider();
        await using var connection = new RlpxConnection(new SilentStream(), _keyA, timeProvider: time);

        var handshake = connection.HandshakeAsInitiatorAsync(_keyB.Id, CancellationToken.None);
        time.Advance(RlpxOptions.Default.HandshakeTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(handshake.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => handshake.WaitAsync(Hang));
        Assert.Contains("5 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_handshake_cancelled_by_the_caller_is_a_cancellation_not_a_timeout()
    {
        await using var connection = new RlpxConnection(new SilentStream(), _keyA, timeProvider: new FakeTimeProvider());
        using var cancel = new CancellationTokenSource();

        var handshake = connection.HandshakeAsRecipientAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handshake.WaitAsync(Hang));
    }

    [Fact]
    public async Task Messages_before_the_handshake_and_a_second_handshake_are_our_bugs()
    {
        var (initiator, recipient) = await HandshakenAsync();
        await using var _ = initiator;
        await using var __ = recipient;
        await using var fresh = new RlpxConnection(new SilentStream(), _keyA);

        await Assert.ThrowsAsync<InvalidOperationException>(() => fresh.ReadMessageAsync(CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => fresh.SendPingAsync(CancellationToken.None).AsTask());
        Assert.Throws<InvalidOperationException>(() => fresh.RemoteId);
        await Assert.ThrowsAsync<InvalidOperationException>(() => initiator.HandshakeAsInitiatorAsync(_keyB.Id, CancellationToken.None));
    }

    private async Task<(RlpxConnection Initiator, RlpxConnection Recipient)> HandshakenAsync()
    {
        var (initiator, recipient) = await ConnectAsync();
        var accepted = recipient.HandshakeAsRecipientAsync(CancellationToken.None);
        await initiator.HandshakeAsInitiatorAsync(_keyB.Id, CancellationToken.None).WaitAsync(Hang);
        await accepted.WaitAsync(Hang);
        return (initiator, recipient);
    }

    private async Task<(RlpxConnection Initiator, RlpxConnection Recipient)> ConnectAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var accept = listener.AcceptTcpClientAsync();
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Hang);
            var server = await accept.WaitAsync(Hang);
            return (new RlpxConnection(client.GetStream(), _keyA), new RlpxConnection(server.GetStream(), _keyB));
        }
        finally
        {
            listener.Stop();
        }
    }

    private static Hello Hello(NodeKey key, string name) =>
        new() { ClientId = $"EngineSkeleton/{name}", Capabilities = [new("eth", 68), new("eth", 69)], NodeId = key.Id };
}
