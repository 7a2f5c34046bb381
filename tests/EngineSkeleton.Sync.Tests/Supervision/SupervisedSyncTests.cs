using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Sync.Supervision;
using EngineSkeleton.Sync.Tests.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Sync.Tests.Supervision;

/// <summary>
/// The sync's supervisor (issue 14, docs/reliability.md): a store whose writes fail mid-sync stops neither the node
/// nor, for good, the sync. The failure is logged once with its cause, the facade's health says not ready with the
/// reason and when the component restarts, the component restarts after its backoff from the stored progress, and
/// once writes succeed again the sync ends on the announced head with the exact chain. Under a virtual clock: the
/// restarts happen only when the test moves it; every await is bounded in real time.
/// </summary>
public sealed class SupervisedSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const ulong Length = 1_500;

    /// <summary>The environment's failure line (FaultTracker.Log.Environment).</summary>
    private const int EnvironmentFailedEvent = 351;

    /// <summary>The recovery line (FaultTracker.Log.Recovered).</summary>
    private const int RecoveredEvent = 354;

    /// <summary>What a full disk throws on Linux: an IOException whose HResult is ENOSPC.</summary>
    private static IOException DiskFull() => new("No space left on device : '/data/skeleton-log.db'", 28);

    public static TheoryData<string, string> Stores => new()
    {
        { "the skeleton store's writes fail while headers are downloaded", "skeleton" },
        { "the chain store's writes fail while bodies are backfilled", "backfill" },
    };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Failed_writes_are_reported_restarted_after_a_backoff_and_the_sync_ends_on_the_exact_chain(string because, string component)
    {
        Assert.NotEmpty(because);
        var time = new FakeTimeProvider();
        var headers = GeneratedChain.Headers(Length + 1);
        var bodies = GeneratedChain.Bodies(headers);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], bodies[0]!));
        using var skeleton = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(time);
        var fillLog = new ListLogger<Backfiller>();
        var loopLog = new ListLogger<SkeletonSync>();
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), time, fillLog);
        await using var sync = new SkeletonSync(skeleton, peers, filler, new ChainLink(chain), time, loopLog);
        var facade = new BeaconSync(sync, peers, h => chain.GetHeader(h)?.Number, () => chain.HeadHeader.Number);
        var tracker = component == "skeleton" ? sync.Supervisor : filler.Supervisor;
        Func<IReadOnlyList<(LogLevel Level, EventId Id, string Message)>> log = component == "skeleton" ? () => loopLog.Entries : () => fillLog.Entries;

        // The disk fills after the store's second successful write: the sync is under way, with work done.
        var writes = 0;
        var full = 1;
        Action failAfterTwo = () =>
        {
            if (Interlocked.Increment(ref writes) > 2 && Volatile.Read(ref full) == 1)
            {
                throw DiskFull();
            }
        };
        if (component == "skeleton")
        {
            skeleton.BeforeCommit = failAfterTwo;
        }
        else
        {
            chain.BeforeCommit = failAfterTwo;
        }
        var failures = new List<TaskCompletionSource<SyncFault>> { new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously) };
        tracker.AfterFailure = fault =>
        {
            if (fault.Failures <= failures.Count)
            {
                failures[fault.Failures - 1].TrySetResult(fault);
            }
        };
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRun = head =>
        {
            if (head.Number == Length)
            {
                done.TrySetResult();
            }
        };
        sync.AddPeer(new InProcessPeer("honest", headers, bodies, time: time));
        sync.Start();
        Assert.Equal(SyncRequestOutcome.Accepted, await facade.SyncAsync(headers[(int)Length], default, force: true).WaitAsync(Bound));

        // 1. The failure: one Error line naming the disk, the health not ready with the reason and the restart time.
        var first = await failures[0].Task.WaitAsync(Bound);
        Assert.Equal(component, first.Component);
        Assert.Equal(SyncFaultKind.DiskFull, first.Kind);
        Assert.StartsWith("disk full at", first.Reason, StringComparison.Ordinal);
        Assert.Contains("free space and the sync resumes", first.Reason, StringComparison.Ordinal);
        Assert.Equal(time.GetUtcNow() + FaultTracker.FirstBackoff, first.RestartAt);
        var health = facade.Health();
        Assert.False(health.IsReady);
        Assert.Equal(SyncHealthState.Faulted, health.State);
        Assert.Equal(first.Reason, health.Fault?.Reason);
        Assert.Equal(health, facade.Status().Health);

        // 2. Still full at the restart: it fails again, waits twice as long, and says nothing more at Error.
        time.Advance(FaultTracker.FirstBackoff);
        var second = await failures[1].Task.WaitAsync(Bound);
        Assert.Equal(2, second.Failures);
        Assert.Equal(time.GetUtcNow() + (2 * FaultTracker.FirstBackoff), second.RestartAt);
        Assert.Single(log(), e => e.Level >= LogLevel.Error);
        var error = Assert.Single(log(), e => e.Id.Id == EnvironmentFailedEvent);
        Assert.Contains("disk full at", error.Message, StringComparison.Ordinal);

        // 3. Space freed: the next restart writes, the sync goes on from the stored progress and ends on the head.
        Volatile.Write(ref full, 0);
        time.Advance(2 * FaultTracker.FirstBackoff);
        await done.Task.WaitAsync(Bound);

        Assert.Equal(headers[(int)Length].Hash, chain.HeadHeader.Hash);
        for (ulong n = 0; n <= Length; n++)
        {
            Assert.Equal(headers[(int)n].Hash, chain.GetCanonicalHash(n));
            Assert.NotNull(chain.GetBody(headers[(int)n].Hash));
        }
        Assert.True(facade.Health().IsReady);
        Assert.Contains(log(), e => e.Id.Id == RecoveredEvent);
        Assert.Single(log(), e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_bug_in_the_loop_is_logged_with_its_stack_and_the_loop_restarts_instead_of_dying()
    {
        var time = new FakeTimeProvider();
        var headers = GeneratedChain.Headers(301);
        using var skeleton = SkeletonStore.OpenInMemory();
        var log = new ListLogger<SkeletonSync>();
        var watch = new SnapshotWatch();
        await using var sync = new SkeletonSync(skeleton, new PeerSet(time), new IdleBackfiller(), new CanonicalMap(headers[0]), time, log)
        {
            AfterEvent = watch.Observe,
        };
        var bug = 1;
        skeleton.BeforeCommit = () =>
        {
            if (Interlocked.Exchange(ref bug, 0) == 1)
            {
                throw new InvalidOperationException("a state nobody expected");
            }
        };
        var failed = new TaskCompletionSource<SyncFault>(TaskCreationOptions.RunContinuationsAsynchronously);
        sync.Supervisor.AfterFailure = fault => failed.TrySetResult(fault);
        sync.AddPeer(new InProcessPeer("honest", headers, time: time));
        sync.Start();

        await sync.SyncAsync(headers[300], null, force: true).WaitAsync(Bound);
        var fault = await failed.Task.WaitAsync(Bound);

        Assert.Equal(SyncFaultKind.Bug, fault.Kind);
        Assert.Equal("InvalidOperationException: a state nobody expected", fault.Reason);
        // A non-forced head while the loop waits to restart is refused as such, not silently lost.
        Assert.Equal(SyncRequestOutcome.RefusedFaulted, await sync.SyncAsync(headers[300], null, force: false).WaitAsync(Bound));

        time.Advance(FaultTracker.FirstBackoff);
        await watch.Until(s => s.Progress is { Subchains: [{ Tail: 1 }] }).WaitAsync(Bound);
        Assert.Equal(SyncHealthState.Healthy, sync.Health.State);
        Assert.Single(log.Entries, e => e.Level == LogLevel.Error);
    }

    public static TheoryData<string, int, double> Backoffs => new()
    {
        { "the first restart waits a second", 1, 1 },
        { "each failure in a row doubles the wait", 3, 4 },
        { "the wait stops at 30 s: a freed disk is written to within half a minute", 6, 30 },
        { "a failure that never ends is retried every 30 s", 1_000, 30 },
    };

    [Theory]
    [MemberData(nameof(Backoffs))]
    public void Restarts_back_off_doubling_up_to_a_cap(string because, int failures, double seconds) =>
        Assert.True(FaultTracker.BackoffAfter(failures) == TimeSpan.FromSeconds(seconds), because);

    [Theory]
    [InlineData("a full disk is the operator's to free", StoreFaultKind.DiskFull, SyncFaultKind.DiskFull)]
    [InlineData("an I/O error is the disk's", StoreFaultKind.IoError, SyncFaultKind.IoError)]
    [InlineData("a file held by another process is named as such", StoreFaultKind.Locked, SyncFaultKind.Locked)]
    [InlineData("a corrupt store is not the environment's: a bug to report", StoreFaultKind.Other, SyncFaultKind.Bug)]
    public void Store_failures_are_classified_by_whose_they_are(string because, StoreFaultKind store, SyncFaultKind expected)
    {
        var (kind, _) = FaultTracker.Classify(new StoreException(store, "x", new IOException("y")));
        Assert.True(kind == expected, because);
    }
}
