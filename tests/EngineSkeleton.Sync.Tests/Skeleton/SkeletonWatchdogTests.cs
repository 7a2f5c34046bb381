using System.Threading.Channels;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>
/// The skeleton under a virtual clock when nothing moves: peers that answer empty rest before they are asked again
/// (<see cref="PeerBackoff"/>), and the stall watchdog notices a sync that writes nothing while it has peers and work.
/// The clock moves only when a test advances it; each await is bounded in real time.
/// </summary>
public sealed class SkeletonWatchdogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>The stall warning's event id (SkeletonSync.Log.Stalled).</summary>
    private const int StalledEvent = 310;

    public static TheoryData<string, int, double> Rests => new()
    {
        { "a first empty answer rests the peer half a second", 1, 0.5 },
        { "each empty answer in a row doubles the rest", 2, 1 },
        { "the fifth rest is 8 s", 5, 8 },
        { "the sixth would be 16 s but stops at one slot, 12 s", 6, 12 },
        { "a peer that never stops answering empty is asked once a slot", 1_000, 12 },
    };

    [Theory]
    [MemberData(nameof(Rests))]
    public void Rests_double_up_to_one_slot(string because, int strikes, double seconds) =>
        Assert.True(PeerBackoff.RestAfter(strikes) == TimeSpan.FromSeconds(seconds), because);

    [Fact]
    public async Task A_lone_peer_answering_empty_is_asked_again_only_after_its_rest_and_the_watchdog_warns()
    {
        var time = new FakeTimeProvider();
        var chain = GeneratedChain.Headers(301);
        using var store = SkeletonStore.OpenInMemory();
        var peer = new InProcessPeer("lacking", chain, time: time) { Faults = new PeerFaults { Empty = true } };
        var asked = Channel.CreateUnbounded<DateTimeOffset>();
        peer.OnRequest = (_, _) =>
        {
            asked.Writer.TryWrite(time.GetUtcNow());
            return Task.CompletedTask;
        };
        var logger = new ListLogger<SkeletonSync>();
        var watch = new SnapshotWatch();
        await using var sync = new SkeletonSync(store, new PeerSet(time), new IdleBackfiller(), new CanonicalMap(chain[0]), time, logger)
        {
            AfterEvent = watch.Observe,
        };
        sync.AddPeer(peer);
        sync.Start();
        Assert.Equal(SyncRequestOutcome.Accepted, await sync.SyncAsync(chain[300], null, force: true).WaitAsync(Bound));

        // Three virtual minutes, moving the clock each time exactly to the end of the peer's rest: the most requests
        // the engine may make in that time.
        var span = TimeSpan.FromMinutes(3);
        var end = time.GetUtcNow() + span;
        var requests = new List<DateTimeOffset>();
        while (true)
        {
            var askedAt = await asked.Reader.ReadAsync().AsTask().WaitAsync(Bound);
            requests.Add(askedAt);
            // The empty answer is in and the peer rests: idle, and not asked again at once.
            await watch.Until(s => s.Peers.All(p => !p.Busy) && s.Resting.Any(r => r.Id == peer.Id && r.Until > askedAt)).WaitAsync(Bound);
            var until = watch.Last.Resting.Single().Until;
            if (until > end)
            {
                break;
            }
            time.Advance(until - time.GetUtcNow());
        }

        // The schedule allows a request after each rest (0.5 s, 1 s, 2 s, … then every 12 s), and the watchdog one more
        // each time it finds the sync stalled (every 90 s without progress).
        var allowed = 1 + (int)(span / SkeletonSync.StallTimeout);
        var elapsed = TimeSpan.Zero;
        for (var strikes = 1; elapsed + PeerBackoff.RestAfter(strikes) <= span; strikes++)
        {
            elapsed += PeerBackoff.RestAfter(strikes);
            allowed++;
        }
        Assert.InRange(requests.Count, 10, allowed);
        Assert.Equal(requests.Count, peer.Requests); // none outside the schedule, none in flight
        Assert.True(requests[^1] - requests[^2] >= TimeSpan.FromSeconds(12) || requests[^2] - requests[^3] >= TimeSpan.FromSeconds(12), "the rests reached one slot");
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Id.Id == StalledEvent);
        Assert.Equal([new Subchain(300, 300, chain[299].Hash)], store.LoadProgress()!.Subchains);
    }

    [Fact]
    public async Task A_task_answered_empty_goes_at_once_to_another_peer_while_the_first_rests()
    {
        var time = new FakeTimeProvider();
        var chain = GeneratedChain.Headers(301);
        using var store = SkeletonStore.OpenInMemory();
        var lacking = new InProcessPeer("a-lacking", chain, time: time) { Faults = new PeerFaults { Empty = true } };
        var askedLacking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lacking.OnRequest = (_, _) =>
        {
            askedLacking.TrySetResult();
            return Task.CompletedTask;
        };
        var watch = new SnapshotWatch();
        await using var sync = new SkeletonSync(store, new PeerSet(time), new IdleBackfiller(), new CanonicalMap(chain[0]), time, new ListLogger<SkeletonSync>())
        {
            AfterEvent = watch.Observe,
        };
        sync.AddPeer(lacking);
        sync.Start();
        await sync.SyncAsync(chain[300], null, force: true).WaitAsync(Bound);
        await askedLacking.Task.WaitAsync(Bound);
        await watch.Until(s => s.Resting.Any(r => r.Id == lacking.Id)).WaitAsync(Bound);

        var synced = new InProcessPeer("b-synced", chain, time: time);
        sync.AddPeer(synced);

        // The clock has not moved: the task went to the joining peer without waiting for the rest to end.
        await watch.Until(s => s.Linked).WaitAsync(Bound);
        Assert.Equal(1L, lacking.Requests);
        Assert.Equal(299L, synced.HeadersServed);
    }

    /// <summary>Takes a request and never answers, whatever its cancellation says: what a timeout cannot end.</summary>
    private sealed class HungPeer : ISyncPeer
    {
        public readonly TaskCompletionSource Asked = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Id => "a-hung";

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
        {
            Asked.TrySetResult();
            return new TaskCompletionSource<IReadOnlyList<BlockHeader>>().Task;
        }

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

        public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<BlockBody?>>([]);
    }

    [Fact]
    public async Task A_request_that_outlives_its_timeout_is_noticed_by_the_watchdog_its_peer_dropped_and_the_task_reassigned()
    {
        var time = new FakeTimeProvider();
        var chain = GeneratedChain.Headers(301);
        using var store = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(time);
        var logger = new ListLogger<SkeletonSync>();
        var watch = new SnapshotWatch();
        await using var sync = new SkeletonSync(store, peers, new IdleBackfiller(), new CanonicalMap(chain[0]), time, logger)
        {
            AfterEvent = watch.Observe,
        };
        var hung = new HungPeer();
        sync.AddPeer(hung);
        sync.Start();
        await sync.SyncAsync(chain[300], null, force: true).WaitAsync(Bound);
        await hung.Asked.Task.WaitAsync(Bound);
        // The only task is the hung peer's; the honest peer joins with nothing to do.
        var honest = new InProcessPeer("b-honest", chain, time: time);
        sync.AddPeer(honest);
        await watch.Until(s => s.Peers.Count == 2).WaitAsync(Bound);
        Assert.Equal(0L, honest.Requests);

        time.Advance(SkeletonSync.StallTimeout + (2 * SkeletonSync.StallCheckInterval));

        await watch.Until(s => s.Linked).WaitAsync(Bound);
        Assert.Equal([new Subchain(300, 1, chain[0].Hash)], store.LoadProgress()!.Subchains);
        Assert.Contains(peers.Status(), p => p.Id == hung.Id && p.Dropped && p.DropReason!.Contains("past its timeout", StringComparison.Ordinal));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Id.Id == StalledEvent);
    }

    [Fact]
    public async Task Without_peers_a_sync_that_waits_is_not_called_stalled()
    {
        var time = new FakeTimeProvider();
        var chain = GeneratedChain.Headers(601);
        using var store = SkeletonStore.OpenInMemory();
        var logger = new ListLogger<SkeletonSync>();
        var watch = new SnapshotWatch();
        await using var sync = new SkeletonSync(store, new PeerSet(time), new IdleBackfiller(), new CanonicalMap(chain[0]), time, logger)
        {
            AfterEvent = watch.Observe,
        };
        sync.Start();
        await sync.SyncAsync(chain[300], null, force: true).WaitAsync(Bound);
        await watch.Until(s => s.State == SyncState.Syncing).WaitAsync(Bound); // the cycle has started: its stall clock runs

        time.Advance(TimeSpan.FromMinutes(10));
        // Events are read in order: once this head (a gap, refused) is answered, every watchdog tick before it was seen.
        Assert.Equal(SyncRequestOutcome.RefusedNotExtending, await sync.SyncAsync(chain[600], null, force: false).WaitAsync(Bound));

        Assert.DoesNotContain(logger.Entries, e => e.Id.Id == StalledEvent);
    }
}
