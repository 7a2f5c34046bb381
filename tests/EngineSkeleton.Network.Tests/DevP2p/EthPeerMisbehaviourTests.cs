using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>
/// A hand-driven peer (<see cref="RawEthPeer"/>) against one of our networks: what it refuses, tolerates and punishes.
/// </summary>
public sealed class EthPeerMisbehaviourTests
{
    private static readonly TimeSpan Hang = RawEthPeer.Hang;

    /// <summary>Our own Status, spoiled in the one way the case names.</summary>
    private static StatusMessage69 Spoil(StatusMessage69 s, string how) => how switch
    {
        "another genesis" => s with { Genesis = new Hash256(Enumerable.Repeat((byte)0x11, 32).ToArray()) },
        "another network id" => s with { NetworkId = s.NetworkId + 1 },
        "a fork id we do not know" => s with { ForkId = new ForkId(0xdeadbeef, 0) },
        "an eth/69 range whose earliest is after its latest" => s with { Range = s.Range with { Earliest = s.Range.Latest + 1 } },
        _ => throw new ArgumentOutOfRangeException(nameof(how), how, null),
    };

    [Theory]
    [InlineData("another genesis")]
    [InlineData("another network id")]
    [InlineData("a fork id we do not know")]
    [InlineData("an eth/69 range whose earliest is after its latest")]
    public async Task A_Status_that_does_not_match_is_refused_with_SubprotocolError_and_never_joins(string how)
    {
        var time = new FakeTimeProvider();
        var chain = new MemoryEthChain(20);
        await using var node = new TestNode(chain, time);
        await node.Network.StartAsync(CancellationToken.None);
        await using var raw = await RawEthPeer.ConnectAsync(node.Network.Self);

        var ours = (StatusMessage69)EthPeer.OurStatus(chain, 69);
        await raw.SendAsync(Spoil(ours, how));
        Assert.Equal(DisconnectReason.SubprotocolReason, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
        Assert.False(node.Sink.Joins.Reader.TryRead(out _));
        Assert.Empty(node.Network.Peers);
    }

    [Fact]
    public async Task Stray_answers_are_tolerated_up_to_the_limit_then_the_peer_is_disconnected_and_leaves()
    {
        await using var joined = await JoinedAsync();
        var (_, _, node, raw, peer) = joined;

        for (var i = 0; i < node.Options.MaxStrayAnswers; i++)
        {
            await raw.SendAsync(new BlockHeadersMessage(1000UL + (ulong)i, []));
        }
        // Still served: the strays so far are tolerated.
        await raw.SendAsync(GetBlockHeadersMessage.Request(7, HeaderOrigin.ByNumber(3), 2, 0, reverse: false));
        var answer = Assert.IsType<BlockHeadersMessage>(await raw.ReadEthAsync());
        Assert.Equal(7UL, answer.RequestId);
        Assert.Equal(2, answer.Headers.Count);

        await raw.SendAsync(new BlockHeadersMessage(2000, []));
        Assert.Equal(DisconnectReason.SubprotocolReason, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
        var (left, reason) = await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Same(peer, left);
        Assert.Contains("answers to no request", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_with_more_headers_than_asked_fails_the_request_and_disconnects()
    {
        await using var joined = await JoinedAsync();
        var (_, _, _, raw, peer) = joined;

        var call = peer.GetHeadersReverseAsync(10, 2, CancellationToken.None);
        var request = Assert.IsType<GetBlockHeadersMessage>(await raw.ReadEthAsync());
        Assert.Equal((2UL, true), (request.Amount, request.Reverse));
        await raw.SendAsync(new BlockHeadersMessage(request.RequestId, [.. Enumerable.Range(0, 3).Select(n => ExecutionApisChain.At((ulong)(10 - n)).Header)]));

        await Assert.ThrowsAsync<PeerException>(() => call.WaitAsync(Hang));
        Assert.Equal(DisconnectReason.SubprotocolReason, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
    }

    public static TheoryData<string, int[]> Unlinked => new()
    {
        { "a header missing from the middle", [10, 9, 7] },
        { "the same header twice", [10, 10, 9] },
        { "headers in forward order", [8, 9, 10] },
        { "a first header that is not the origin", [9, 8, 7] },
    };

    [Theory]
    [MemberData(nameof(Unlinked))]
    public async Task A_reverse_answer_whose_headers_do_not_link_fails_the_call_and_disconnects_with_UselessPeer(string why, int[] numbers)
    {
        await using var joined = await JoinedAsync();
        var (_, _, node, raw, peer) = joined;

        var call = peer.GetHeadersReverseAsync(10, 3, CancellationToken.None);
        var request = Assert.IsType<GetBlockHeadersMessage>(await raw.ReadEthAsync());
        await raw.SendAsync(new BlockHeadersMessage(request.RequestId, [.. numbers.Select(n => ExecutionApisChain.At((ulong)n).Header)]));

        var e = await Assert.ThrowsAsync<PeerException>(() => call.WaitAsync(Hang));
        Assert.Contains("do not link", e.Message, StringComparison.Ordinal);
        Assert.True(await raw.ReadUntilDisconnectAsync().WaitAsync(Hang) == DisconnectReason.UselessPeer, why);
        var (_, reason) = await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Contains("useless", reason, StringComparison.Ordinal);
        Assert.True(node.Network.PenaltyLeft(raw.Key.Id) > TimeSpan.Zero, "a node disconnected for its answers is not dialed again at once");
    }

    [Fact]
    public async Task A_header_answered_for_another_hash_fails_the_call_and_disconnects_with_UselessPeer()
    {
        await using var joined = await JoinedAsync();
        var (_, _, _, raw, peer) = joined;

        var call = peer.GetHeaderByHashAsync(ExecutionApisChain.At(3).Hash, CancellationToken.None);
        var request = Assert.IsType<GetBlockHeadersMessage>(await raw.ReadEthAsync());
        await raw.SendAsync(new BlockHeadersMessage(request.RequestId, [ExecutionApisChain.At(4).Header]));

        await Assert.ThrowsAsync<PeerException>(() => call.WaitAsync(Hang));
        Assert.Equal(DisconnectReason.UselessPeer, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
    }

    [Fact]
    public async Task A_node_refused_for_its_Status_is_not_dialed_again_for_five_minutes_and_an_honest_one_at_once()
    {
        var time = new FakeTimeProvider();
        await using var other = new TestNode(new MemoryEthChain(10, spec: ExecutionApisChain.Spec with { ChainId = ExecutionApisChain.Spec.ChainId + 1 }), time);
        await other.Network.StartAsync(CancellationToken.None);
        await using var honest = new TestNode(new MemoryEthChain(10), time);
        await honest.Network.StartAsync(CancellationToken.None);
        await using var node = new TestNode(new MemoryEthChain(10), time);
        await node.Network.StartAsync(CancellationToken.None);

        Assert.False(await node.Network.DialAsync(other.Network.Self, CancellationToken.None).WaitAsync(Hang));
        Assert.Equal(new DevP2pOptions().MisbehaviourRedial, node.Network.PenaltyLeft(other.Key.Id));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(node.Network.PenaltyLeft(other.Key.Id));

        var dial = node.Network.DialAsync(honest.Network.Self, CancellationToken.None);
        await node.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Null(node.Network.PenaltyLeft(honest.Key.Id));
        await honest.DisposeAsync();
        Assert.True(await dial.WaitAsync(Hang));
        Assert.Null(node.Network.PenaltyLeft(honest.Key.Id));
    }

    [Fact]
    public async Task A_peer_that_never_answers_times_out_with_PeerException_and_stays_connected()
    {
        await using var joined = await JoinedAsync(options: new DevP2pOptions { RequestTimeout = TimeSpan.FromSeconds(5) });
        var (time, _, node, raw, peer) = joined;

        var call = peer.GetHeaderByHashAsync(ExecutionApisChain.At(3).Hash, CancellationToken.None);
        Assert.IsType<GetBlockHeadersMessage>(await raw.ReadEthAsync());
        // The request's timer is registered just after the send; step the clock until it fires, never past the
        // first ping (15 s), so nothing but the request's timeout can end the call.
        for (var s = 0; s < 14 && !call.IsCompleted; s++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }
        var e = await Assert.ThrowsAsync<PeerException>(() => call.WaitAsync(Hang));
        Assert.Contains("no answer", e.Message, StringComparison.Ordinal);
        Assert.Single(node.Network.Peers);
    }

    [Fact]
    public async Task A_peer_silent_past_the_idle_timeout_is_disconnected_with_PingTimeout()
    {
        await using var joined = await JoinedAsync();
        var (time, _, node, raw, _) = joined;

        time.Advance(node.Options.PingInterval);
        var ping = await raw.Connection.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
        Assert.Equal(P2pMessageCodes.Ping, ping.Code);
        time.Advance(node.Options.PingInterval); // 30 s without a Pong or anything else
        var (_, reason) = await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Contains("timed out", reason, StringComparison.Ordinal);
        var disconnect = await raw.Connection.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
        Assert.Equal(P2pMessageCodes.Disconnect, disconnect.Code);
        Assert.Equal(DisconnectReason.PingTimeout, P2pMessages.DecodeDisconnect(disconnect.Payload.Span));
    }

    [Fact]
    public async Task The_peer_disconnecting_fails_pending_calls_with_PeerException_and_reports_Left()
    {
        await using var joined = await JoinedAsync();
        var (_, _, node, raw, peer) = joined;

        var call = peer.GetBodiesAsync([ExecutionApisChain.At(1).Hash], CancellationToken.None);
        Assert.IsType<GetBlockBodiesMessage>(await raw.ReadEthAsync());
        await raw.Connection.SendDisconnectAsync(DisconnectReason.TooManyPeers, CancellationToken.None).AsTask().WaitAsync(Hang);

        var e = await Assert.ThrowsAsync<PeerException>(() => call.WaitAsync(Hang));
        Assert.Contains("TooManyPeers", e.Message, StringComparison.Ordinal);
        var (left, reason) = await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Same(peer, left);
        Assert.Contains("TooManyPeers", reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PeerException>(() => peer.GetHeadersReverseAsync(5, 1, CancellationToken.None).WaitAsync(Hang));
    }

    public static TheoryData<string, ulong, byte[]> Garbage => new()
    {
        { "GetBlockHeaders that is not RLP", P2pMessageCodes.BaseProtocolLength + 0x03, [0xff, 0x00, 0x12] },
        { "a code past eth's space", P2pMessageCodes.BaseProtocolLength + 0x30, [0xc0] },
        {
            "a code whose low byte is GetBlockHeaders' but which is 256 past it",
            P2pMessageCodes.BaseProtocolLength + 0x103, GetBlockHeadersMessage.Request(1, HeaderOrigin.ByNumber(0), 1, 0, false).Encode()
        },
        { "a second Status", P2pMessageCodes.BaseProtocolLength + 0x00, EthPeer.OurStatus(new MemoryEthChain(20), 69).Encode() },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_after_the_handshake_disconnects(string why, ulong code, byte[] payload)
    {
        Assert.NotEmpty(why);
        await using var joined = await JoinedAsync();
        var (_, _, node, raw, _) = joined;

        await raw.Connection.WriteMessageAsync(code, payload, CancellationToken.None).AsTask().WaitAsync(Hang);
        Assert.Equal(DisconnectReason.SubprotocolReason, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
        await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
    }

    [Fact]
    public async Task Announcements_and_pool_messages_are_read_and_ignored_and_pool_and_receipt_queries_answered_empty()
    {
        await using var joined = await JoinedAsync();
        var (_, _, node, raw, _) = joined;

        await raw.SendAsync(new TransactionsMessage([]));
        await raw.SendAsync(new GetReceiptsMessage(5, [ExecutionApisChain.At(1).Hash]));
        Assert.Equal(new ReceiptsMessage(5, []).Encode(), (await raw.ReadEthAsync()).Encode());
        await raw.SendAsync(new GetPooledTransactionsMessage(6, [ExecutionApisChain.At(1).Hash]));
        Assert.Equal(new PooledTransactionsMessage(6, []).Encode(), (await raw.ReadEthAsync()).Encode());
        Assert.Single(node.Network.Peers);
    }

    [Fact]
    public async Task We_serve_at_most_1024_headers_for_an_amount_of_100000()
    {
        await using var joined = await JoinedAsync(MemoryEthChain.Generated(2000));
        var (_, _, _, raw, _) = joined;

        await raw.SendAsync(new GetBlockHeadersMessage(9, HeaderOrigin.ByNumber(0), 100_000, 0, false));
        var answer = Assert.IsType<BlockHeadersMessage>(await raw.ReadEthAsync());
        Assert.Equal(EthLimits.MaxHeaders, answer.Headers.Count);
        Assert.Equal(Enumerable.Range(0, 1024).Select(n => (ulong)n), answer.Headers.Select(h => h.Number));
    }

    [Fact]
    public async Task BlockRangeUpdate_moves_the_peers_range_and_an_invalid_one_disconnects()
    {
        await using var joined = await JoinedAsync();
        var (_, chain, node, raw, peer) = joined;

        await raw.SendAsync(new BlockRangeUpdateMessage(new BlockRange(0, 1000, chain.Head.Hash)));
        // A round trip orders the update before the check.
        await raw.SendAsync(GetBlockHeadersMessage.Request(1, HeaderOrigin.ByNumber(0), 1, 0, false));
        await raw.ReadEthAsync();
        Assert.Equal(1000UL, Assert.Single(node.Network.Peers).Latest);

        await raw.SendAsync(new BlockRangeUpdateMessage(new BlockRange(0, 1000, default)));
        Assert.Equal(DisconnectReason.SubprotocolReason, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
        var (left, _) = await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Same(peer, left);
    }

    [Fact]
    public async Task HeadChanged_sends_BlockRangeUpdate_first_then_after_32_blocks_or_a_rewind_only()
    {
        await using var joined = await JoinedAsync(new MemoryEthChain(54, head: 10));
        var (_, chain, node, raw, _) = joined;

        chain.HeadNumber = 11;
        node.Network.HeadChanged();
        Assert.Equal(11UL, Assert.IsType<BlockRangeUpdateMessage>(await raw.ReadEthAsync()).Range.Latest);
        chain.HeadNumber = 42; // 31 blocks on: not yet
        node.Network.HeadChanged();
        chain.HeadNumber = 43; // 32 on
        node.Network.HeadChanged();
        Assert.Equal(43UL, Assert.IsType<BlockRangeUpdateMessage>(await raw.ReadEthAsync()).Range.Latest);
        chain.HeadNumber = 44;
        node.Network.HeadChanged();
        chain.HeadNumber = 40; // back: at once
        node.Network.HeadChanged();
        var update = Assert.IsType<BlockRangeUpdateMessage>(await raw.ReadEthAsync());
        Assert.Equal((40UL, ExecutionApisChain.At(40).Hash), (update.Range.Latest, update.Range.LatestHash));
    }

    [Fact]
    public async Task Inbound_peers_past_the_inbound_share_are_refused_with_TooManyPeers()
    {
        // MaxPeers 3 keeps 3/3 = 1 for dials: 2 inbound.
        await using var first = await JoinedAsync(options: new DevP2pOptions { MaxPeers = 3 });
        var (_, chain, node, _, _) = first;
        await using var second = await JoinAsync(node, chain);
        await using var third = await RawEthPeer.ConnectAsync(node.Network.Self);

        Assert.Equal(DisconnectReason.TooManyPeers, await third.ReadUntilDisconnectAsync().WaitAsync(Hang));
        Assert.Equal(2, node.Network.Peers.Count);
    }

    [Fact]
    public async Task A_connection_from_our_own_node_id_is_refused_with_ConnectedToSelf()
    {
        var time = new FakeTimeProvider();
        await using var node = new TestNode(new MemoryEthChain(5), time);
        await node.Network.StartAsync(CancellationToken.None);
        await using var raw = await RawEthPeer.ConnectAsync(node.Network.Self, key: node.Key);

        Assert.Equal(DisconnectReason.ConnectedToSelf, await raw.ReadUntilDisconnectAsync().WaitAsync(Hang));
        Assert.Empty(node.Network.Peers);
        Assert.False(await node.Network.DialAsync(node.Network.Self, CancellationToken.None).WaitAsync(Hang));
        Assert.False(node.Sink.Joins.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_header_above_the_peers_eth69_range_is_answered_empty_without_a_request()
    {
        await using var joined = await JoinedAsync(); // its Status says latest 20
        var (_, _, _, raw, peer) = joined;

        Assert.Empty(await peer.GetHeadersReverseAsync(21, 5, CancellationToken.None).WaitAsync(Hang));
        var call = peer.GetHeadersReverseAsync(20, 1, CancellationToken.None);
        var request = Assert.IsType<GetBlockHeadersMessage>(await raw.ReadEthAsync());
        Assert.Equal(20UL, request.Origin.Number); // the first request on the wire: none went out for 21
        await raw.SendAsync(new BlockHeadersMessage(request.RequestId, [ExecutionApisChain.At(20).Header]));
        Assert.Single(await call.WaitAsync(Hang));
    }

    /// <summary>A started node, a raw peer joined to it, and the sync peer the node reported for it.</summary>
    private sealed record Joined(FakeTimeProvider Time, MemoryEthChain Chain, TestNode Node, RawEthPeer Raw, ISyncPeer Peer)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Raw.DisposeAsync();
            await Node.DisposeAsync();
        }
    }

    /// <summary>
    /// The setup most cases share: a node on <paramref name="chain"/> (20 blocks unless given) with a fake clock,
    /// started, one raw peer joined (<see cref="JoinAsync"/>) and its join read from the sink.
    /// </summary>
    private static async Task<Joined> JoinedAsync(MemoryEthChain? chain = null, DevP2pOptions? options = null)
    {
        var time = new FakeTimeProvider();
        chain ??= new MemoryEthChain(20);
        var node = new TestNode(chain, time, options);
        RawEthPeer? raw = null;
        try
        {
            await node.Network.StartAsync(CancellationToken.None);
            raw = await JoinAsync(node, chain);
            var peer = await node.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
            return new Joined(time, chain, node, raw, peer);
        }
        catch
        {
            if (raw is not null)
            {
                await raw.DisposeAsync();
            }
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>A raw peer through Hello and Status, joined; its Status read and answered with ours.</summary>
    private static async Task<RawEthPeer> JoinAsync(TestNode node, IEthChain chain)
    {
        var raw = await RawEthPeer.ConnectAsync(node.Network.Self);
        await raw.ExchangeStatusAsync(EthPeer.OurStatus(chain, 69));
        // A round trip: the Status has been accepted once an answer comes.
        await raw.SendAsync(GetBlockHeadersMessage.Request(424242, HeaderOrigin.ByNumber(0), 1, 0, false));
        Assert.IsType<BlockHeadersMessage>(await raw.ReadEthAsync());
        return raw;
    }
}
