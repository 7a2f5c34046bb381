using System.Threading.Channels;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Supervision;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// go-ethereum's beacon header sync, in our words (docs/sync.md): one long-lived task owns all sync state and reads one
/// channel of events (heads from the Engine API, peer deliveries, peer joins, terminate). Each cycle downloads the
/// newest subchain backwards through a scratch window of 131,072 headers in 512-header tasks handed to the fastest
/// idle peers, writes every accepted batch with the progress in one transaction, and ends when the subchain links
/// to the local chain, merges with an older one, or a forced head moves elsewhere. Peer tasks only post back.
/// <para>
/// The loop has a thread of its own and blocks on its channel between events (as a geth goroutine would), instead
/// of resuming on whichever thread-pool thread is free: it is the single writer, and a writer that kept moving
/// between cores wrote slower than the same writes from one thread (docs/benchmarks.md, Skeleton sync). Peer
/// requests, answer checks and the backfiller run on the thread pool.
/// </para>
/// <para>
/// The state the loop owns is in three places, by how long it lives: the progress, the cycle counter and the
/// download statistics last as long as the sync (here); a cycle's window, tasks and peer assignment live in its
/// <see cref="SkeletonCycle"/>; the rest of these fields are the settings it was built with. The class is split by
/// phase: this file the surface and the loop between cycles, <c>.Cycle</c> a cycle and its end, <c>.Retrieval</c>
/// the requests and what comes back, <c>.Log</c> what an operator reads.
/// </para>
/// </summary>
public sealed partial class SkeletonSync : IAsyncDisposable
{
    // Settings: what the sync is built with, the same for its whole life.
    private readonly SkeletonStore _store;
    private readonly PeerSet _peers;
    private readonly IBackfiller _filler;
    private readonly IChainLink _chain;
    private readonly TimeProvider _time;
    private readonly ILogger<SkeletonSync> _logger;
    private readonly Channel<SkeletonEvent> _events = Channel.CreateUnbounded<SkeletonEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _restTimer;
    private readonly ITimer _watchdog;
    private readonly ITimer _restartTimer;
    private readonly FaultTracker _health;
    private Task? _loop;
    private int _disposed;

    // The sync's state across cycles, owned by the loop's thread alone (docs/sync.md, One loop, one owner).
    private readonly PeerBackoff _backoff; // empty answers in a row count across cycles, as the peers do
    private readonly DownloadStats _stats;
    private SkeletonProgress? _progress; // as last committed to the store
    private int _cycles; // cycles started: numbers each cycle's requests
    private bool _linked; // whether the latest cycle started linked: skeleton_status' "linked"
    private volatile SkeletonSnapshot _snapshot = SkeletonSnapshot.Idle;
    private Hash256? _foreignParent; // the foreign parent last reported (CheckAnotherNetwork)
    private volatile string? _foreignChain; // what skeleton_status says about it

    public SkeletonSync(SkeletonStore store, PeerSet peers, IBackfiller filler, IChainLink chain, TimeProvider time, ILogger<SkeletonSync> logger)
    {
        _store = store;
        _peers = peers;
        _filler = filler;
        _chain = chain;
        _time = time;
        _logger = logger;
        _backoff = new PeerBackoff(time);
        _stats = new DownloadStats(time);
        // Timer callbacks only post to the channel: the loop stays the one reader of all state.
        _restTimer = time.CreateTimer(_ => _events.Writer.TryWrite(RestOver.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watchdog = time.CreateTimer(_ => _events.Writer.TryWrite(WatchdogTick.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _restartTimer = time.CreateTimer(_ => _events.Writer.TryWrite(RestartDue.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _health = new FaultTracker("skeleton", time, logger);
        _peers.Readmitted += OnReadmitted;
    }

    /// <summary>What skeleton_status shows; replaced (never mutated) by the loop after every event.</summary>
    internal SkeletonSnapshot Snapshot => _snapshot;

    /// <summary>
    /// The loop's health and the backfiller's, the worse of the two (a faulted one over a restarting one): what the
    /// facade shows and the host's readiness check reads.
    /// </summary>
    internal SyncHealth Health
    {
        get
        {
            var own = _health.Health;
            var filler = _filler.Health;
            return Worse(own, filler);
        }
    }

    /// <summary>Test hook: the loop's fault tracker (its AfterFailure hook).</summary>
    internal FaultTracker Supervisor => _health;

    private static SyncHealth Worse(SyncHealth a, SyncHealth b) =>
        Rank(b.State) > Rank(a.State) ? b : a;

    private static int Rank(SyncHealthState state) => state switch
    {
        SyncHealthState.Faulted => 2,
        SyncHealthState.Restarting => 1,
        _ => 0,
    };

    /// <summary>Test hook: called by the loop each time it publishes a snapshot (before it waits for the next event).</summary>
    internal Action<SkeletonSnapshot>? AfterEvent { get; set; }

    /// <summary>Where the loop and its requests run: the node's threads, or a simulation's one (docs/simulation.md).</summary>
    internal SyncThreading Threading { get; init; } = SyncThreading.Product;

    public void Start()
    {
        if (_loop is null)
        {
            // Ticks before the first cycle are read and ignored; arming here, not in the loop, means a test that
            // has called Start sees every tick its clock moves through.
            _watchdog.Change(StallCheckInterval, StallCheckInterval);
            // A thread of its own, not a pool thread (see the class remarks); queued work when simulated.
            _loop = Threading.StartLoop(Run);
        }
    }

    /// <summary>
    /// Hands a head to the loop and returns its answer: forced heads are always taken (a cycle restarts on them if
    /// needed); non-forced heads only when they extend the current subchain.
    /// </summary>
    public Task<SyncRequestOutcome> SyncAsync(BlockHeader head, ulong? finalized, bool force)
    {
        var reply = new TaskCompletionSource<SyncRequestOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_events.Writer.TryWrite(new HeadEvent(head, finalized, force, reply)))
        {
            reply.TrySetResult(SyncRequestOutcome.RefusedNotExtending);
        }
        return reply.Task;
    }

    public void AddPeer(ISyncPeer peer)
    {
        if (_peers.Add(peer))
        {
            _events.Writer.TryWrite(PeersChanged.Instance);
        }
    }

    /// <summary>
    /// Adds a peer the operator configured (--sync.rpc): dropped, it comes back after a backoff
    /// (<see cref="PeerSet.AddConfigured"/>), as geth re-dials its static peers.
    /// </summary>
    public void AddConfiguredPeer(ISyncPeer peer)
    {
        if (_peers.AddConfigured(peer))
        {
            _events.Writer.TryWrite(PeersChanged.Instance);
        }
    }

    /// <summary>A configured peer is back (from the peer set's timer): idle peers take tasks, the backfiller resumes.</summary>
    private void OnReadmitted(ISyncPeer peer)
    {
        Log.PeerReadmitted(_logger, peer.Id);
        _events.Writer.TryWrite(PeersChanged.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _peers.Readmitted -= OnReadmitted;
        await _watchdog.DisposeAsync().ConfigureAwait(false);
        await _restTimer.DisposeAsync().ConfigureAwait(false);
        await _restartTimer.DisposeAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_events.Writer.TryWrite(new Terminate(done)))
            {
                await Task.WhenAny(done.Task, loop).ConfigureAwait(false);
            }
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _events.Writer.TryComplete();
        _stop.Dispose();
    }

    /// <summary>
    /// The loop under its supervisor (docs/reliability.md): whatever escapes a cycle — a disk that refuses writes, a
    /// bug, a state nobody expected — is recorded (<see cref="FaultTracker"/>: logged once with its cause, shown in
    /// the health the host reads), the backfiller is suspended as at any cycle's end, and after a backoff the loop
    /// starts again from the stored progress, on the head it was syncing to (or a newer forced one). The thread
    /// never dies while the node runs.
    /// </summary>
    private void Run()
    {
        if (Threading.Pump is null)
        {
            Thread.CurrentThread.Name = "skeleton sync"; // for thread dumps and profiles
        }
        Target? target = null; // null until the first forced head
        while (true)
        {
            try
            {
                RunCycles(ref target);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
            {
                if (!Recover(e, ref target))
                {
                    Publish(SyncState.Terminated);
                    return;
                }
            }
        }
    }

    /// <summary>Cycles from the stored progress until terminated; <paramref name="target"/> is where the current one goes.</summary>
    private void RunCycles(ref Target? target)
    {
        _progress = _store.LoadProgress();
        if (target is null)
        {
            Publish(SyncState.Idle);
            _health.Succeeded(); // nothing to write until a forced head comes
            var first = WaitForForcedHead();
            if (first is null)
            {
                return;
            }
            target = first;
            _stats.Start();
        }
        while (target.Header is not null || target.Resume)
        {
            var (end, next) = Cycle(target.Header, target.Finalized);
            Log.CycleEnded(_logger, end);
            switch (end)
            {
                case CycleEnd.Reorged:
                    target = new Target(next, null, false);
                    break;
                case CycleEnd.Terminated:
                    Publish(SyncState.Terminated);
                    return;
                default:
                    // Linked, merged or trimmed: no new head, the next cycle starts from the stored progress
                    // (geth's sync loop sets head = nil for these).
                    target = Target.FromProgress;
                    break;
            }
        }
    }

    /// <summary>
    /// After a failure: records it, suspends the backfiller, and waits out the backoff answering events — a forced
    /// head becomes the restart's target, a non-forced one is refused, a terminate ends the loop (false).
    /// </summary>
    private bool Recover(Exception error, ref Target? target)
    {
        var delay = _health.Failed(error);
        var (_, forced, terminate) = SuspendFiller();
        if (terminate is not null)
        {
            terminate.TrySetResult();
            return false;
        }
        if (forced is not null)
        {
            target = new Target(forced, null, false);
        }
        Publish(_snapshot.State);
        _restartTimer.Change(delay, Timeout.InfiniteTimeSpan);
        _health.RestartArmed();
        try
        {
            while (true)
            {
                switch (NextEvent())
                {
                    case RestartDue:
                        _health.Restarting();
                        return true;
                    case Terminate t:
                        t.Done.TrySetResult();
                        return false;
                    case HeadEvent { Force: true } h:
                        target = new Target(h.Header, h.Finalized, false);
                        h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
                        break;
                    case HeadEvent h:
                        h.Reply.TrySetResult(SyncRequestOutcome.RefusedFaulted);
                        break;
                    case Delivery d:
                        _peers.MarkIdle(d.Peer);
                        break;
                    default:
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            _restartTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Where a cycle goes: a new head, or on from the stored progress (<see cref="Resume"/>).</summary>
    private sealed record Target(BlockHeader? Header, ulong? Finalized, bool Resume)
    {
        public static readonly Target FromProgress = new(null, null, true);
    }

    /// <summary>Before the first cycle only a forced head (forkchoiceUpdated) starts the sync, as in geth.</summary>
    private Target? WaitForForcedHead()
    {
        while (true)
        {
            SkeletonEvent ev;
            try
            {
                ev = NextEvent();
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            switch (ev)
            {
                case Terminate t:
                    t.Done.TrySetResult();
                    return null;
                case HeadEvent { Force: false } h:
                    h.Reply.TrySetResult(SyncRequestOutcome.RefusedNotExtending);
                    break;
                case HeadEvent h:
                    h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
                    return new Target(h.Header, h.Finalized, false);
                case Delivery d:
                    _peers.MarkIdle(d.Peer);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>The next event, blocking the loop's own thread until one comes; cancelled when the sync stops.</summary>
    private SkeletonEvent NextEvent()
    {
        SkeletonEvent? ev;
        while (!_events.Reader.TryRead(out ev))
        {
            if (Threading.Pump is { } pump)
            {
                pump(() => _events.Reader.TryPeek(out _), _stop.Token);
                continue;
            }
            if (!_events.Reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
            {
                throw new OperationCanceledException("the event channel is closed");
            }
        }
        return ev;
    }

    private void Publish(SyncState state)
    {
        _snapshot = new SkeletonSnapshot(state, _progress, _linked, _stats.Pulled, _stats.Rate, _peers.Status())
        {
            Resting = _backoff.Running(),
            // Said while the newest subchain still ends at the foreign parent: a later head that is ours clears it.
            AnotherChain = _progress is { Subchains: [var newest, ..] } && newest.Next == _foreignParent ? _foreignChain : null,
        };
        AfterEvent?.Invoke(_snapshot);
    }
}
