using System.Net;
using System.Numerics;
using System.Text.Json;
using System.Threading.Channels;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// The real server, given only a lying devp2p node by --bootnodes, meets it first; an honest node (ours, holding the
/// execution-apis chain) then dials in, and the sync ends VALID with every hash the chain's. The liars are our own
/// <see cref="DevP2pNetwork"/> serving a <see cref="LyingChain"/>: they speak RLPx and eth correctly and lie in what
/// they say. What each costs it is the case's: a Status for another chain never joins (the reason code, SubprotocolError,
/// is pinned byte-level in Network.Tests EthPeerMisbehaviourTests), headers that do not link get UselessPeer, bodies
/// that do not match their headers get the peer dropped by the backfiller and, through the peer set, UselessPeer; silence gets PingTimeout. None is dialed
/// again while the test runs (DevP2pOptions.MisbehaviourRedial: 5 min).
/// </summary>
public sealed class DevP2pHostilePeersSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private const ulong Head = 54;

    [Theory]
    [InlineData("another genesis")]
    [InlineData("another network id")]
    [InlineData("a fork id we do not know")]
    public async Task A_node_whose_Status_is_for_another_chain_never_joins_and_the_sync_ends_VALID_from_the_honest_one(string lie)
    {
        await using var liar = await HostileNode.StartAsync(LyingChain.For(lie));
        await using var node = await TestNode.StartAsync("--bootnodes", liar.Network.Self.ToString());

        // Its Status was read (both sides refuse the other's), and it never joined.
        await WhileTellingTheHeadAsync(node, liar.Chain.StatusesSent.Reader.ReadAsync().AsTask());
        await SyncFromHonestAsync(node);
        Assert.DoesNotContain(DevP2pPeerIds(await StatusAsync(node)), id => id == liar.Network.Self.Id.ToShortString());
        Assert.False(liar.Sink.Joins.Reader.TryRead(out _), "the liar never had us as a peer");
        Assert.False(liar.Chain.StatusesSent.Reader.TryRead(out _), "the liar was not dialed again");
    }

    [Fact]
    public async Task A_node_whose_headers_do_not_link_is_disconnected_with_UselessPeer_and_the_sync_ends_VALID_from_the_honest_one()
    {
        await using var liar = await HostileNode.StartAsync(LyingChain.For("headers that do not link"));
        await using var node = await TestNode.StartAsync("--bootnodes", liar.Network.Self.ToString());

        // It joined, was asked for the skeleton's headers (the only peer), and our node hung up on it.
        var (_, reason) = await WhileTellingTheHeadAsync(node, liar.Sink.Leaves.Reader.ReadAsync().AsTask());
        Assert.Equal($"disconnected by peer: {DisconnectReason.UselessPeer}", reason);

        await SyncFromHonestAsync(node);
        Assert.DoesNotContain(DevP2pPeerIds(await StatusAsync(node)), id => id == liar.Network.Self.Id.ToShortString());
        Assert.True(liar.Sink.Joins.Reader.TryRead(out _), "the liar joined once");
        Assert.False(liar.Sink.Joins.Reader.TryRead(out _), "the liar was not dialed again");
    }

    [Fact]
    public async Task A_node_whose_bodies_do_not_match_their_headers_is_disconnected_with_UselessPeer_and_the_sync_ends_VALID_from_the_honest_one()
    {
        await using var liar = await HostileNode.StartAsync(LyingChain.For("bodies that do not match their headers"));
        await using var node = await TestNode.StartAsync("--bootnodes", liar.Network.Self.ToString());

        // The liar serves true headers, so the skeleton links through it; the backfiller then drops it for its bodies,
        // and the drop reaches its RLPx session: Disconnect(useless peer), as geth's handler.removePeer sends.
        var (_, reason) = await WhileTellingTheHeadAsync(node, liar.Sink.Leaves.Reader.ReadAsync().AsTask());
        Assert.Equal($"disconnected by peer: {DisconnectReason.UselessPeer}", reason);
        var dropped = (await StatusAsync(node)).GetProperty("peers").EnumerateArray()
            .Where(p => p.GetProperty("id").GetString() == liar.Network.Self.Id.ToShortString())
            .Select(p => p.GetProperty("dropReason").GetString())
            .ToArray();
        // Once the session is closed the peer leaves the set; while its entry lasts it names the bodies.
        Assert.All(dropped, why => Assert.Contains("bod", why, StringComparison.OrdinalIgnoreCase));

        await SyncFromHonestAsync(node);
        Assert.DoesNotContain(DevP2pPeerIds(await StatusAsync(node)), id => id == liar.Network.Self.Id.ToShortString());
        Assert.True(liar.Sink.Joins.Reader.TryRead(out _), "the liar joined once");
        Assert.False(liar.Sink.Joins.Reader.TryRead(out _), "the liar was not dialed again");
    }

    [Fact]
    public async Task A_node_that_never_answers_is_disconnected_with_PingTimeout_and_the_sync_ends_VALID_from_the_honest_one()
    {
        await using var liar = await HostileNode.StartAsync(LyingChain.For("silence"));
        await using var node = await TestNode.StartAsync("--bootnodes", liar.Network.Self.ToString());
        var id = liar.Network.Self.Id.ToShortString();

        // Its read loop is stuck on our first request: no answer and no Pong; after 30 s of silence our node hangs up.
        await WhileTellingTheHeadAsync(node, liar.Chain.Asked.Task);
        await UntilGoneAsync(node, id);
        await SyncFromHonestAsync(node);
        Assert.DoesNotContain(id, DevP2pPeerIds(await StatusAsync(node)));
    }

    [Theory]
    [InlineData("bytes before any handshake: closed, no session to say why in", "before the handshake")]
    [InlineData("bytes where Status should be, after the handshake and Hello", "after Hello")]
    [InlineData("bytes where a frame should be, after joining", "after joining")]
    [InlineData("a frame whose header is sound and whose MAC is not, after joining", "a broken frame MAC")]
    public async Task A_client_sending_garbage_is_disconnected_and_the_node_stays_up_and_syncs_to_VALID(string because, string when)
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await DevP2pRawClient.ConnectAsync(node.Host.DevP2p.Self);

        switch (when)
        {
            case "before the handshake":
                await client.SendGarbageAsync();
                Assert.True(await client.ClosedByNodeAsync(), because);
                break;
            case "after Hello":
                await client.HelloAsync();
                await client.SendGarbageAsync();
                Assert.Equal(DisconnectReason.BreachOfProtocol, await client.ReadUntilDisconnectAsync());
                break;
            case "after joining":
                await client.JoinAsync();
                await client.SendGarbageAsync();
                Assert.Equal(DisconnectReason.BreachOfProtocol, await client.ReadUntilDisconnectAsync());
                break;
            default:
                await client.JoinAsync();
                await client.SendFrameWithBadMacAsync();
                Assert.Equal(DisconnectReason.BreachOfProtocol, await client.ReadUntilDisconnectAsync());
                break;
        }

        // The node leaves the peer set after its Disconnect is out, so the client may read it first.
        await UntilGoneAsync(node, client.Id.ToShortString());
        await SyncFromHonestAsync(node);
    }

    /// <summary>
    /// Every kind of hostile devp2p peer at once, beside the honest one: three Status liars (another genesis, network
    /// id, fork id), three garbage senders (before the handshake, after joining, a broken frame MAC) and a silent peer,
    /// all on the node's listener at the same moment as the node dials a node whose headers do not link; then a node
    /// whose bodies do not match their headers; then the honest one. The data liars come one after the other because
    /// a liar is only caught when asked, and the sync asks the fastest idle peer: with the honest node or the other data
    /// liar there, which one is asked for the skeleton or for bodies would be chance. Every other hostile peer is still
    /// there (or being disconnected) while they and the honest one serve: the silent one until the end. Each gets its
    /// reason: SubprotocolReason (0x10) for a Status of another chain, BreachOfProtocol (0x02) for garbage, UselessPeer
    /// (0x03) for the data liars, PingTimeout (0x0b) for silence (or UselessPeer if the sync asked it something and
    /// dropped it for not answering first); the sync ends VALID with every hash the chain's.
    /// </summary>
    [Fact]
    public async Task Hostile_peers_of_every_kind_at_once_are_each_disconnected_with_their_reason_and_the_sync_ends_VALID_from_the_honest_one()
    {
        await using var headersLiar = await HostileNode.StartAsync(LyingChain.For("headers that do not link"));
        await using var node = await TestNode.StartAsync("--bootnodes", headersLiar.Network.Self.ToString());
        var self = node.Host.DevP2p.Self;
        var statusLies = new[] { StatusLie.Genesis, StatusLie.NetworkId, StatusLie.ForkId };
        var clients = new List<DevP2pRawClient>();
        try
        {
            for (var i = 0; i < statusLies.Length + 4; i++)
            {
                clients.Add(await DevP2pRawClient.ConnectAsync(self));
            }
            var statusLiars = clients[..3];
            var (beforeHandshake, afterJoining, badMac, silent) = (clients[3], clients[4], clients[5], clients[6]);

            // All at once: every raw client runs its misbehaviour while the node meets the headers liar it dialed.
            var statusOutcomes = statusLiars.Select(async (client, i) =>
            {
                await client.JoinAsync(statusLies[i]);
                return await client.ReadUntilDisconnectAsync();
            }).ToArray();
            var closedBeforeHandshake = Task.Run(async () =>
            {
                await beforeHandshake.SendGarbageAsync();
                return await beforeHandshake.ClosedByNodeAsync();
            });
            var garbageOutcome = Task.Run(async () =>
            {
                await afterJoining.JoinAsync();
                await afterJoining.SendGarbageAsync();
                return await afterJoining.ReadUntilDisconnectAsync();
            });
            var badMacOutcome = Task.Run(async () =>
            {
                await badMac.JoinAsync();
                await badMac.SendFrameWithBadMacAsync();
                return await badMac.ReadUntilDisconnectAsync();
            });
            var silentJoined = silent.JoinAsync(); // and then nothing: no answer, no Pong, not even a read

            var (_, headersLiarHeard) = await WhileTellingTheHeadAsync(node, headersLiar.Sink.Leaves.Reader.ReadAsync().AsTask());
            Assert.Equal($"disconnected by peer: {DisconnectReason.UselessPeer}", headersLiarHeard);
            Assert.Equal(
                [DisconnectReason.SubprotocolReason, DisconnectReason.SubprotocolReason, DisconnectReason.SubprotocolReason],
                await Task.WhenAll(statusOutcomes).WaitAsync(Bound));
            Assert.True(await closedBeforeHandshake.WaitAsync(Bound), "garbage before the handshake: the node closed the connection");
            Assert.Equal(DisconnectReason.BreachOfProtocol, await garbageOutcome.WaitAsync(Bound));
            Assert.Equal(DisconnectReason.BreachOfProtocol, await badMacOutcome.WaitAsync(Bound));
            await silentJoined.WaitAsync(Bound);

            // The bodies liar: true headers, so the skeleton links through it; its bodies get it dropped and hung up on.
            await using var bodiesLiar = await HostileNode.StartAsync(LyingChain.For("bodies that do not match their headers"), self);
            var (_, bodiesLiarHeard) = await WhileTellingTheHeadAsync(node, bodiesLiar.Sink.Leaves.Reader.ReadAsync().AsTask());
            Assert.Equal($"disconnected by peer: {DisconnectReason.UselessPeer}", bodiesLiarHeard);

            await SyncFromHonestAsync(node);

            // The silent peer: never answered a Ping (30 s of silence: PingTimeout), or was asked for something, did not
            // answer, and was dropped by the sync (UselessPeer) before its idle time was up.
            var silentHeard = await silent.ReadUntilDisconnectAsync();
            var asked = silent.Received.Any(code => code is 0x13 or 0x15); // GetBlockHeaders, GetBlockBodies
            Assert.True(
                silentHeard == DisconnectReason.PingTimeout || (asked && silentHeard == DisconnectReason.UselessPeer),
                $"the silent peer heard {silentHeard?.ToString() ?? "no reason"}; asked for data: {asked}");
            var joined = DevP2pPeerIds(await StatusAsync(node));
            Assert.All(clients, client => Assert.DoesNotContain(client.Id.ToShortString(), joined));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// forkchoiceUpdated(head) every quarter second, as a beacon node each slot, until <paramref name="until"/> completes
    /// (bounded): the first calls may come before the dial's handshake and then only announce the hash.
    /// </summary>
    private static async Task<T> WhileTellingTheHeadAsync<T>(TestNode node, Task<T> until)
    {
        using var deadline = new CancellationTokenSource(Bound);
        while (!until.IsCompleted && !deadline.IsCancellationRequested)
        {
            await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(ExecutionApisChain.At(Head).Header.Hash), null);
            await Task.WhenAny(until, Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None));
        }

        return await until.WaitAsync(TimeSpan.Zero);
    }

    private static async Task WhileTellingTheHeadAsync(TestNode node, Task until) =>
        await WhileTellingTheHeadAsync(node, until.ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default));

    /// <summary>An honest node holding the chain dials <paramref name="node"/>; forkchoiceUpdated until VALID; every hash checked.</summary>
    private static async Task SyncFromHonestAsync(TestNode node)
    {
        await using var honest = await TestNode.StartAsync("--bootnodes", node.Host.DevP2p.Self.ToString());
        honest.SeedThrough(Head);
        var head = ExecutionApisChain.At(Head).Header;
        using var deadline = new CancellationTokenSource(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);
        while (last.FcuStatus() != "VALID" && !deadline.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
            last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);
        }

        Assert.True(last.FcuStatus() == "VALID", $"not VALID within {Bound}: {last}\n{await StatusAsync(node)}");
        for (ulong n = 0; n <= Head; n++)
        {
            var block = (await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), false)).Result();
            Assert.True(
                block.ValueKind == JsonValueKind.Object && block.GetProperty("hash").GetString() == ExecutionApisChain.At(n).Header.Hash.ToString(),
                $"block {n} is {block}");
        }
    }

    /// <summary>Until skeleton_status no longer lists the peer; fails if it still does after <see cref="Bound"/>.</summary>
    private static async Task UntilGoneAsync(TestNode node, string id)
    {
        using (var deadline = new CancellationTokenSource(Bound))
        {
            // Cross-component: the devp2p peer list is only seen by asking; bounded by the deadline.
            while (DevP2pPeerIds(await StatusAsync(node)).Contains(id) && !deadline.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
            }
        }
        Assert.DoesNotContain(id, DevP2pPeerIds(await StatusAsync(node)));
    }

    private static async Task<JsonElement> StatusAsync(TestNode node) => (await node.Public("skeleton_status")).Result();

    private static string[] DevP2pPeerIds(JsonElement status) =>
        [.. status.GetProperty("devp2p").GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("id").GetString()!)];

    /// <summary>One of our devp2p networks on loopback serving a <see cref="LyingChain"/>, its joins and leaves recorded.</summary>
    private sealed class HostileNode : IAsyncDisposable
    {
        private readonly NodeKey _key;

        private HostileNode(LyingChain chain, NodeKey key, RecordingSink sink, DevP2pNetwork network)
        {
            Chain = chain;
            _key = key;
            Sink = sink;
            Network = network;
        }

        public LyingChain Chain { get; }

        public RecordingSink Sink { get; }

        public DevP2pNetwork Network { get; }

        /// <param name="chain">What it serves.</param>
        /// <param name="dial">A node it dials (as a static node) instead of waiting to be dialed.</param>
        public static async Task<HostileNode> StartAsync(LyingChain chain, Enode? dial = null)
        {
            var key = NodeKey.Generate();
            var sink = new RecordingSink();
            // It takes what it is told (its own Status check would refuse a node on the true chain first, as ours does).
            var network = new DevP2pNetwork(
                new DevP2pOptions { ListenAddress = IPAddress.Loopback, Port = 0, EthVersions = [69], StaticNodes = dial is null ? [] : [dial] },
                key, chain, sink, TimeProvider.System, NullLoggerFactory.Instance);
            await network.StartAsync(CancellationToken.None);
            return new HostileNode(chain, key, sink, network);
        }

        public async ValueTask DisposeAsync()
        {
            Chain.Release();
            await Network.DisposeAsync();
            _key.Dispose();
        }
    }

    private sealed class RecordingSink : IDevP2pPeerSink
    {
        public Channel<ISyncPeer> Joins { get; } = Channel.CreateUnbounded<ISyncPeer>();

        public Channel<(ISyncPeer Peer, string Reason)> Leaves { get; } = Channel.CreateUnbounded<(ISyncPeer, string)>();

        public void Joined(ISyncPeer peer) => Joins.Writer.TryWrite(peer);

        public void Left(ISyncPeer peer, string reason) => Leaves.Writer.TryWrite((peer, reason));
    }

    /// <summary>
    /// The execution-apis chain through block 54, told with one lie: its spec (another genesis, network id or fork
    /// schedule, so its Status is for another chain), its headers (each numbered one above where it stands, so no
    /// answer links), its bodies (each another block's), or nothing at all (the first header asked for never comes).
    /// </summary>
    private sealed class LyingChain(string lie, ChainSpec spec) : IEthChain
    {
        private readonly SemaphoreSlim _never = new(0);

        /// <summary>One item each time the chain's Status is built, i.e. each eth handshake it takes part in.</summary>
        public Channel<bool> StatusesSent { get; } = Channel.CreateUnbounded<bool>();

        /// <summary>Completes when "silence" was first asked for a header.</summary>
        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ChainSpec Spec => spec;

        public BlockHeader Head => ExecutionApisChain.At(Head54).Header;

        public BigInteger HeadTotalDifficulty => 1;

        public ulong Earliest
        {
            get
            {
                StatusesSent.Writer.TryWrite(true); // read only for Status (and BlockRangeUpdate, which this node never sends)
                return 0;
            }
        }

        private static ulong Head54 => DevP2pHostilePeersSyncTests.Head;

        public static LyingChain For(string lie)
        {
            var spec = ExecutionApisChain.Spec;
            return new LyingChain(lie, lie switch
            {
                "another genesis" => spec with { GenesisHash = new Hash256(Enumerable.Repeat((byte)0x11, 32).ToArray()) },
                "another network id" => spec with { ChainId = spec.ChainId + 1 },
                "a fork id we do not know" => spec with { ForkBlocks = [.. spec.ForkBlocks, 1] },
                _ => spec,
            });
        }

        public BlockHeader? GetHeader(ulong number)
        {
            if (lie == "silence")
            {
                Asked.TrySetResult();
                _never.Wait(); // until the test ends: the peer's read loop is stuck here
                return null;
            }
            if (number > Head54)
            {
                return null;
            }
            return lie == "headers that do not link" && number < Head54 ? ExecutionApisChain.At(number + 1).Header : ExecutionApisChain.At(number).Header;
        }

        public BlockHeader? GetHeader(Hash256 hash) =>
            Enumerable.Range(0, (int)Head54 + 1).Select(n => ExecutionApisChain.At((ulong)n).Header).FirstOrDefault(h => h.Hash == hash);

        public BlockBody? GetBody(Hash256 hash)
        {
            var header = GetHeader(hash);
            if (header is null)
            {
                return null;
            }
            return lie == "bodies that do not match their headers"
                ? ExecutionApisChain.At((header.Number % Head54) + 1).Body
                : ExecutionApisChain.At(header.Number).Body;
        }

        public void Release() => _never.Release(1000);
    }
}
