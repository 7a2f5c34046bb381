using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;

namespace EngineSkeleton.Server.Tests.Eth;

/// <summary>
/// eth_syncing over real HTTP while the node syncs the execution-apis chain from an in-process peer: false when
/// idle, execution-apis' SyncingStatus from the skeleton and backfill progress while syncing, false after VALID.
/// </summary>
public sealed class SyncingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Serves the chain's headers at once but holds each bodies request until the test lets it go; the first one is
    /// answered only through <see cref="FirstRunThrough"/>, so the backfill takes two runs and the test sees both.
    /// </summary>
    private sealed class StagedBodies(InProcessPeer inner, ulong firstRunThrough) : ISyncPeer
    {
        private readonly Dictionary<Hash256, ulong> _numbers =
            inner.Chain.Select((h, n) => (h.Hash, Number: (ulong)n)).ToDictionary(x => x.Hash, x => x.Number);

        private int _asked;

        public ulong FirstRunThrough => firstRunThrough;

        public TaskCompletionSource FirstAsked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseFirst { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SecondAsked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseSecond { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Id => "staged-bodies";

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken) =>
            inner.GetHeadersReverseAsync(origin, count, cancellationToken);

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) =>
            inner.GetHeaderByHashAsync(hash, cancellationToken);

        public async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
        {
            var bodies = await inner.GetBodiesAsync(hashes, cancellationToken);
            switch (Interlocked.Increment(ref _asked))
            {
                case 1:
                    FirstAsked.TrySetResult();
                    await ReleaseFirst.Task.WaitAsync(cancellationToken);
                    return [.. bodies.Where((_, i) => _numbers[hashes[i]] <= firstRunThrough)];
                case 2:
                    SecondAsked.TrySetResult();
                    await ReleaseSecond.Task.WaitAsync(cancellationToken);
                    return bodies;
                default:
                    return bodies;
            }
        }
    }

    private static InProcessPeer ExecutionApisPeer()
    {
        var blocks = Enumerable.Range(0, ExecutionApisChain.Blocks.Count + 1).Select(n => ExecutionApisChain.At((ulong)n)).ToList();
        return new InProcessPeer("execution-apis", [.. blocks.Select(b => b.Header)], [.. blocks.Select(b => (BlockBody?)b.Body)]);
    }

    private static async Task<JsonElement> Syncing(TestNode node) => (await node.Public("eth_syncing")).Result();

    private static (string Starting, string Current, string Highest) Progress(JsonElement syncing)
    {
        Assert.True(syncing.ValueKind == JsonValueKind.Object, $"expected the progress object, got {syncing}");
        Assert.Equal(["currentBlock", "highestBlock", "startingBlock"], syncing.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        return (syncing.GetProperty("startingBlock").GetString()!, syncing.GetProperty("currentBlock").GetString()!, syncing.GetProperty("highestBlock").GetString()!);
    }

    [Fact]
    public async Task Eth_syncing_is_false_when_idle_reports_skeleton_and_backfill_progress_while_syncing_and_is_false_after_VALID()
    {
        await using var node = await TestNode.StartAsync();
        node.SeedThrough(10);
        var peer = new StagedBodies(ExecutionApisPeer(), firstRunThrough: 30);
        node.AddPeer(peer);
        var head = ExecutionApisChain.At(54).Header;

        Assert.Equal(JsonValueKind.False, (await Syncing(node)).ValueKind);

        var filled = node.Backfilled(54);
        var first = await node.ForkchoiceStartingSync(head.Hash);
        Assert.Equal("SYNCING", first.FcuStatus());

        // Linked: the skeleton holds 11..54, nothing is filled yet; the sync started from the canonical head, 10.
        await peer.FirstAsked.Task.WaitAsync(Bound);
        Assert.Equal(("0xa", "0xa", "0x36"), Progress(await Syncing(node)));

        // One run filled 11..30: current moves, starting stays where the sync began.
        peer.ReleaseFirst.SetResult();
        await peer.SecondAsked.Task.WaitAsync(Bound);
        Assert.Equal(("0xa", "0x1e", "0x36"), Progress(await Syncing(node)));

        peer.ReleaseSecond.SetResult();
        await filled.WaitAsync(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);

        Assert.Equal("VALID", last.FcuStatus());
        Assert.Equal(JsonValueKind.False, (await Syncing(node)).ValueKind);
    }
}
