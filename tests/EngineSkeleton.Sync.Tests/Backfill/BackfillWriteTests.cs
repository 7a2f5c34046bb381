using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Tests.Backfill;

/// <summary>
/// How a fill's write ends when it cannot be made: the finalized block moved off the branch (a value, the fill stops
/// and nothing is written), or the chain store failed (a bug: it is not taken for the former and reaches the caller).
/// </summary>
public sealed class BackfillWriteTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>A logger whose <see cref="Logged"/> completes with the first entry of one event id.</summary>
    private sealed class AwaitingLogger<T>(int awaited) : ILogger<T>
    {
        private readonly TaskCompletionSource<(LogLevel Level, Exception? Exception)> _logged = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<(LogLevel Level, Exception? Exception)> Logged => _logged.Task;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == awaited)
            {
                _logged.TrySetResult((logLevel, exception));
            }
        }
    }

    [Fact]
    public void A_run_branching_off_below_the_finalized_block_is_answered_BelowFinalized_and_nothing_is_written()
    {
        var (main, fork) = MainAndFork();
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(main[0], GeneratedChain.EmptyBody));
        chain.WriteCanonical([.. Enumerable.Range(1, 300).Select(n => new Block(main[n], GeneratedChain.EmptyBody))]);
        chain.SetForkchoice(main[300], null, main[250].Hash);

        var result = chain.TryWriteCanonical([.. Enumerable.Range(201, 10).Select(n => new Block(fork[n], GeneratedChain.EmptyBody))]);

        Assert.Equal(CanonicalWrite.BelowFinalized, result);
        Assert.Equal(main[300].Hash, chain.HeadHeader.Hash);
        Assert.Equal(main[201].Hash, chain.GetCanonicalHash(201));
        Assert.False(chain.HasBlock(fork[201].Hash));
    }

    [Fact]
    public async Task The_finalized_block_moving_off_the_branch_during_a_fill_stops_it_with_nothing_written_and_the_next_fill_refuses_the_head()
    {
        var (main, fork) = MainAndFork();
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(main[0], GeneratedChain.EmptyBody));
        chain.WriteCanonical([.. Enumerable.Range(1, 300).Select(n => new Block(main[n], GeneratedChain.EmptyBody))]);
        using var skeleton = Skeleton(fork, tail: 201, head: 320);
        var peers = new PeerSet(TimeProvider.System);
        // The fill starts on the branch (nothing finalized yet); while its first run is out, forkchoiceUpdated
        // finalizes a block of the main chain above the fork point.
        peers.Add(new InProcessPeer("fork", fork, GeneratedChain.Bodies(fork))
        {
            OnRequest = (request, _) =>
            {
                if (request.Kind == PeerRequestKind.Bodies)
                {
                    chain.SetForkchoice(main[300], null, main[250].Hash);
                }
                return Task.CompletedTask;
            },
        });
        var logger = new AwaitingLogger<Backfiller>(406);
        var invalid = new InvalidBlocks();
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(main)), TimeProvider.System, logger, invalid);

        filler.Resume();
        Assert.Equal(LogLevel.Warning, (await logger.Logged.WaitAsync(Bound)).Level);
        Assert.Null(await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound)); // stopped, not faulted

        Assert.Equal(main[300].Hash, chain.HeadHeader.Hash);
        for (var n = 201; n <= 300; n++)
        {
            Assert.True(chain.GetCanonicalHash((ulong)n) == main[n].Hash, $"block {n} is still the main chain's");
        }
        Assert.False(chain.HasBlock(fork[201].Hash));

        var refused = new TaskCompletionSource<FillRefusal>(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRefusal = (_, why) => refused.TrySetResult(why);
        filler.Resume();
        Assert.Equal(FillRefusal.TooDeepReorg, await refused.Task.WaitAsync(Bound));
        Assert.True(invalid.IsTooDeep(fork[320].Hash));
    }

    [Fact]
    public async Task A_chain_store_failing_under_the_fill_is_logged_with_its_stack_and_shown_as_the_fill_s_fault_not_stopped_quietly()
    {
        var headers = GeneratedChain.Headers(301);
        var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], GeneratedChain.EmptyBody));
        using var skeleton = Skeleton(headers, tail: 1, head: 300);
        var peers = new PeerSet(TimeProvider.System);
        // The store closed under a running fill (a shutdown in the wrong order): its ObjectDisposedException is an
        // InvalidOperationException, the type the fill once took for "finalized moved" and swallowed.
        peers.Add(new InProcessPeer("peer", headers, GeneratedChain.Bodies(headers))
        {
            OnRequest = (request, _) =>
            {
                if (request.Kind == PeerRequestKind.Bodies)
                {
                    chain.Dispose();
                }
                return Task.CompletedTask;
            },
        });
        var logger = new AwaitingLogger<Backfiller>(350); // FaultTracker's line for a bug, with its exception
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), TimeProvider.System, logger);

        filler.Resume();
        var (level, logged) = await logger.Logged.WaitAsync(Bound);

        Assert.Equal(LogLevel.Error, level);
        Assert.IsAssignableFrom<InvalidOperationException>(logged);
        Assert.Equal(SyncHealthState.Faulted, filler.Health.State);
        Assert.Equal(SyncFaultKind.Bug, filler.Health.Fault?.Kind);
        Assert.Equal("backfill", filler.Health.Fault?.Component);
        // The skeleton loop suspending the fill is not disturbed by it (it used to rethrow and end the loop's thread).
        Assert.Null(await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound));
    }

    [Fact]
    public async Task A_fill_freezes_the_blocks_up_to_the_finalized_number_the_skeleton_recorded_and_keeps_the_rest_in_LiteDB()
    {
        var headers = GeneratedChain.Headers(301);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], GeneratedChain.EmptyBody));
        using var skeleton = Skeleton(headers, tail: 1, head: 300, finalized: 200);
        var peers = new PeerSet(TimeProvider.System);
        peers.Add(new InProcessPeer("peer", headers, GeneratedChain.Bodies(headers)));
        var filled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Backfiller>.Instance)
        {
            AfterRun = head =>
            {
                if (head.Number == 300)
                {
                    filled.TrySetResult();
                }
            },
        };

        filler.Resume();
        await filled.Task.WaitAsync(Bound);
        await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(200UL, chain.FrozenThrough);
        Assert.Equal(200, chain.FrozenCount);
        for (var n = 0; n <= 300; n++)
        {
            Assert.True(chain.GetCanonicalHash((ulong)n) == headers[n].Hash, $"block {n} canonical");
            Assert.True(chain.GetBlock(headers[n].Hash)?.Header.Hash == headers[n].Hash, $"block {n} read back");
        }
    }

    [Fact]
    public async Task A_head_whose_branch_leaves_the_canonical_chain_below_the_frozen_blocks_is_refused_as_too_deep_a_reorg()
    {
        var (main, fork) = MainAndFork();
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(main[0], GeneratedChain.EmptyBody));
        Assert.Equal(CanonicalWrite.Written, chain.TryWriteCanonical([.. Enumerable.Range(1, 300).Select(n => new Block(main[n], GeneratedChain.EmptyBody))], freezeThrough: 250));
        using var skeleton = Skeleton(fork, tail: 201, head: 320);
        var peers = new PeerSet(TimeProvider.System);
        peers.Add(new InProcessPeer("fork", fork, GeneratedChain.Bodies(fork)));
        var invalid = new InvalidBlocks();
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(main)), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Backfiller>.Instance, invalid);
        var refused = new TaskCompletionSource<FillRefusal>(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRefusal = (_, why) => refused.TrySetResult(why);

        filler.Resume(); // nothing finalized: only the frozen blocks forbid the reorg
        Assert.Equal(FillRefusal.TooDeepReorg, await refused.Task.WaitAsync(Bound));

        Assert.True(invalid.IsTooDeep(fork[320].Hash));
        Assert.Equal(main[300].Hash, chain.HeadHeader.Hash);
        Assert.False(chain.HasBlock(fork[201].Hash));
    }

    [Theory]
    [InlineData("the announced finalized number when there is one", 200UL, 300UL, 200UL)]
    [InlineData("never above the target", 400UL, 300UL, 300UL)]
    [InlineData("else 90,000 below the target (geth's FullImmutabilityThreshold)", null, 200_000UL, 110_000UL)]
    [InlineData("nothing when the target is nearer the anchor than that", null, 89_999UL, 0UL)]
    public void Blocks_are_frozen_up_to(string because, ulong? finalized, ulong target, ulong expected) =>
        Assert.True(Backfiller.FreezeThrough(finalized, target) == expected, because);

    /// <summary>A main chain 0..300 and a branch 0..320 sharing its blocks 0..200.</summary>
    private static (IReadOnlyList<BlockHeader> Main, IReadOnlyList<BlockHeader> Fork) MainAndFork()
    {
        var main = GeneratedChain.Headers(301);
        return (main, GeneratedChain.Fork(main, atNumber: 200, length: 120, seed: 1));
    }

    /// <summary>A skeleton store holding <paramref name="headers"/> tail..head as one subchain hanging off the block below the tail.</summary>
    private static SkeletonStore Skeleton(IReadOnlyList<BlockHeader> headers, int tail, int head, ulong? finalized = null)
    {
        var skeleton = SkeletonStore.OpenInMemory();
        skeleton.WriteBatch(
            [.. Enumerable.Range(tail, head - tail + 1).Reverse().Select(n => headers[n])],
            new SkeletonProgress([new Subchain((ulong)head, (ulong)tail, headers[tail - 1].Hash)], finalized));
        return skeleton;
    }
}
