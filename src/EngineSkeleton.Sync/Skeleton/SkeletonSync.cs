using System.Threading.Channels;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
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
/// </summary>
public sealed partial class SkeletonSync : IAsyncDisposable
{
    /// <summary>geth logs sync progress every 8 s; operators know that rhythm.</summary>
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(8);

    /// <summary>
    /// How long the sync may go without writing a header, while it has peers and headers to fetch, before the
    /// watchdog calls it stalled. Longer than the 60 s cap on a request's timeout
    /// (<see cref="MessageRate.TimeoutCap"/>), so a request that timed out the ordinary way has been retried by then;
    /// what is left is what timeouts do not catch: every peer answering empty, or a peer that ignores its timeout.
    /// </summary>
    internal static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(90);

    /// <summary>How often the watchdog looks; a stall is noticed at most this long after <see cref="StallTimeout"/>.</summary>
    internal static readonly TimeSpan StallCheckInterval = TimeSpan.FromSeconds(10);

    private readonly SkeletonStore _store;
    private readonly PeerSet _peers;
    private readonly IBackfiller _filler;
    private readonly IChainLink _chain;
    private readonly TimeProvider _time;
    private readonly ILogger<SkeletonSync> _logger;
    private readonly Channel<SkeletonEvent> _events = Channel.CreateUnbounded<SkeletonEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly PeerBackoff _backoff;
    private readonly ITimer _restTimer;
    private readonly ITimer _watchdog;
    private Task? _loop;
    private int _disposed;

    // Owned by the loop task alone.
    private SkeletonProgress? _progress;
    private int _cycle;
    // The scratch window, one array of RequestHeaders slots per task, task 0 adjoining the tail. Sliding the window
    // rotates the task arrays (256 references) instead of moving 131,072 header references with their GC write
    // barriers for every 512 headers consumed.
    private BlockHeader?[][] _scratch = [];
    private ISyncPeer?[] _owners = [];
    private ISyncPeer?[] _declined = []; // per task: the peer whose last answer to it was empty
    private long[] _askedAt = []; // per task: when its request went out
    private long _progressAt; // when the cycle started or last wrote headers: the watchdog's reference
    private ulong _scratchHead;
    private bool _linked;
    private ulong _pulled;
    private long _startedAt;
    private long _loggedAt;
    private volatile SkeletonSnapshot _snapshot = SkeletonSnapshot.Idle;

    public SkeletonSync(SkeletonStore store, PeerSet peers, IBackfiller filler, IChainLink chain, TimeProvider time, ILogger<SkeletonSync> logger)
    {
        _store = store;
        _peers = peers;
        _filler = filler;
        _chain = chain;
        _time = time;
        _logger = logger;
        _backoff = new PeerBackoff(time);
        // Timer callbacks only post to the channel: the loop stays the one reader of all state.
        _restTimer = time.CreateTimer(_ => _events.Writer.TryWrite(RestOver.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watchdog = time.CreateTimer(_ => _events.Writer.TryWrite(WatchdogTick.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>What skeleton_status shows; replaced (never mutated) by the loop after every event.</summary>
    public SkeletonSnapshot Snapshot => _snapshot;

    /// <summary>Test hook: called by the loop each time it publishes a snapshot (before it waits for the next event).</summary>
    internal Action<SkeletonSnapshot>? AfterEvent { get; set; }

    public void Start()
    {
        if (_loop is null)
        {
            // Ticks before the first cycle are read and ignored; arming here, not in the loop, means a test that
            // has called Start sees every tick its clock moves through.
            _watchdog.Change(StallCheckInterval, StallCheckInterval);
            // LongRunning: a thread of its own, not a pool thread (see the class remarks).
            _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
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

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _watchdog.DisposeAsync().ConfigureAwait(false);
        await _restTimer.DisposeAsync().ConfigureAwait(false);
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

    private void Run()
    {
        Thread.CurrentThread.Name = "skeleton sync"; // for thread dumps and profiles
        _progress = _store.LoadProgress();
        Publish(SkeletonState.Idle);
        var head = WaitForForcedHead();
        _startedAt = _time.GetTimestamp();
        while (head.Header is not null || head.Resume)
        {
            var (end, next) = Cycle(head.Header, head.Finalized);
            Log.CycleEnded(_logger, end);
            switch (end)
            {
                case CycleEnd.Reorged:
                    head = (next, null, false);
                    break;
                case CycleEnd.Terminated:
                    Publish(SkeletonState.Terminated);
                    return;
                default:
                    head = (null, null, true); // continue from the stored progress
                    break;
            }
        }
    }

    /// <summary>Before the first cycle only a forced head (forkchoiceUpdated) starts the sync, as in geth.</summary>
    private (BlockHeader? Header, ulong? Finalized, bool Resume) WaitForForcedHead()
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
                return (null, null, false);
            }
            switch (ev)
            {
                case Terminate t:
                    t.Done.TrySetResult();
                    return (null, null, false);
                case HeadEvent { Force: false } h:
                    h.Reply.TrySetResult(SyncRequestOutcome.RefusedNotExtending);
                    break;
                case HeadEvent h:
                    h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
                    return (h.Header, h.Finalized, false);
                case Delivery d:
                    _peers.MarkIdle(d.Peer);
                    break;
                default:
                    break;
            }
        }
    }

    private (CycleEnd End, BlockHeader? Next) Cycle(BlockHeader? head, ulong? finalized)
    {
        var cycle = ++_cycle;
        StartCycle(head, finalized);
        using var cycleCancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        (CycleEnd, BlockHeader?) result;
        try
        {
            result = RunCycle(cycle, cycleCancel.Token);
        }
        finally
        {
            // Owners of cancelled requests stay busy until their delivery comes back (every fetch posts one) and is
            // read as stale: freeing them here let the next cycle hand them a second request while the first was
            // still out, and the stale delivery then freed a peer busy with the new one.
            // Cancellation callbacks (peers' requests) run on the thread pool, not on the loop's thread.
            cycleCancel.CancelAsync().GetAwaiter().GetResult();
            _scratch = [];
            _owners = [];
            _declined = [];
            _askedAt = [];
        }
        // Suspend the backfiller before the skeleton changes under it; heads arriving meanwhile are answered, and
        // the newest forced one becomes the next cycle's target (geth drops them; the beacon node would have to
        // repeat itself).
        var (filled, forced, terminate) = SuspendFiller();
        if (filled is not null)
        {
            CleanStales(filled);
        }
        if (terminate is not null)
        {
            terminate.TrySetResult();
            return (CycleEnd.Terminated, null);
        }
        return forced is not null && result.Item1 != CycleEnd.Terminated ? (CycleEnd.Reorged, forced) : result;
    }

    private void StartCycle(BlockHeader? head, ulong? finalized)
    {
        if (head is null)
        {
            head = _store.GetHeader(_progress!.Subchains[0].Head)
                ?? throw new InvalidOperationException($"skeleton store lost its head header {_progress.Subchains[0].Head}");
        }
        else
        {
            var init = SkeletonRules.InitSync(_progress, head, _store.GetHeader);
            _progress = finalized is null ? init.Progress : init.Progress with { Finalized = finalized };
            _store.WriteBatch([head], _progress);
            DeleteStale(init.Stale);
        }
        _scratch = new BlockHeader?[HeaderTasks.TaskCount][];
        for (var task = 0; task < _scratch.Length; task++)
        {
            _scratch[task] = new BlockHeader?[HeaderTasks.RequestHeaders];
        }
        _owners = new ISyncPeer?[HeaderTasks.TaskCount];
        _declined = new ISyncPeer?[HeaderTasks.TaskCount];
        _askedAt = new long[HeaderTasks.TaskCount];
        _progressAt = _time.GetTimestamp();
        _scratchHead = _progress!.Subchains[0].Tail - 1;
        _linked = _progress.Subchains.Count == 1 && _chain.IsLinked(_scratchHead, _progress.Subchains[0].Next);
        Log.CycleStarting(_logger, head.Number, head.Hash, _scratchHead, _linked);
        if (_linked)
        {
            _filler.Resume();
        }
    }

    private (CycleEnd, BlockHeader?) RunCycle(int cycle, CancellationToken token)
    {
        while (true)
        {
            if (!_linked)
            {
                AssignTasks(cycle, token);
            }
            Publish(_linked ? SkeletonState.Linked : SkeletonState.Syncing);
            SkeletonEvent ev;
            try
            {
                ev = NextEvent();
            }
            catch (OperationCanceledException)
            {
                return (CycleEnd.Terminated, null);
            }
            switch (ev)
            {
                case Terminate t:
                    t.Done.TrySetResult();
                    return (CycleEnd.Terminated, null);
                case HeadEvent h:
                    if (OnHead(h) is { } end)
                    {
                        return end;
                    }
                    break;
                case PeersChanged when _linked:
                    _filler.Resume(); // the backfiller may have stopped for want of a peer with the bodies
                    break;
                case WatchdogTick when !_linked:
                    CheckStalled();
                    break;
                case Delivery d when d.Cycle != cycle:
                    _peers.MarkIdle(d.Peer); // a request of an earlier cycle is back: its peer is free
                    if (_linked)
                    {
                        _filler.Resume(); // the backfiller may have stopped with this peer busy and no other idle
                    }
                    break;
                case Delivery d:
                    var (linked, merged) = OnDelivery(d);
                    if (linked)
                    {
                        return (CycleEnd.Linked, null);
                    }
                    if (merged)
                    {
                        return (CycleEnd.Merged, null);
                    }
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>A head during a cycle: extend, or restart on it if forced, or refuse it (docs/sync.md).</summary>
    private (CycleEnd, BlockHeader?)? OnHead(HeadEvent h)
    {
        var result = SkeletonRules.ProcessNewHead(_progress!, h.Header, h.Finalized, _store.GetHeader);
        if (!result.Accepted)
        {
            if (h.Force)
            {
                h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
                Log.Restarting(_logger, result.Outcome, h.Header.Number, h.Header.Hash);
                return (CycleEnd.Reorged, h.Header);
            }
            h.Reply.TrySetResult(SyncRequestOutcome.RefusedNotExtending);
            return null;
        }
        _progress = result.Progress;
        if (result.Outcome == NewHeadOutcome.Extended)
        {
            _store.WriteBatch([h.Header], _progress);
        }
        else
        {
            _store.SaveProgress(_progress);
        }
        h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
        if (_linked)
        {
            if (_progress.Subchains.Count == 1 && _chain.IsLinked(_scratchHead, _progress.Subchains[0].Next))
            {
                _filler.Resume();
            }
            else
            {
                Log.LocalChainTrimmed(_logger, _scratchHead, _progress.Subchains[0].Next);
                return (CycleEnd.Trimmed, null);
            }
        }
        return null;
    }

    /// <summary>Idle peers not resting, fastest first, take the lowest free tasks (docs/sync.md, Retrieval).</summary>
    private void AssignTasks(int cycle, CancellationToken token)
    {
        var idle = new List<ISyncPeer>(_peers.IdlePeersFastestFirst());
        idle.RemoveAll(_backoff.IsResting);
        var anchor = _chain.AnchorNumber; // a checkpoint: nothing at or below it is asked for
        var fitting = HeaderTasks.TasksFitting(_scratchHead, anchor);
        for (var task = 0; task < fitting && idle.Count > 0; task++)
        {
            if (_owners[task] is not null)
            {
                continue;
            }
            // A peer that answered this task empty lacks it: another idle peer goes first. Otherwise a tie in the
            // estimates hands the task back to the same peer for ever and the peer that has the headers never
            // gets it. Alone, the lacking peer is asked again once its rest is over (it may have caught up; geth
            // asks again at once, which with a lone lacking peer is a request per loop turn).
            var pick = idle.Count > 1 && ReferenceEquals(idle[0], _declined[task]) ? 1 : 0;
            var peer = idle[pick];
            idle.RemoveAt(pick);
            _owners[task] = peer;
            _askedAt[task] = _time.GetTimestamp();
            _peers.MarkBusy(peer);
            var range = HeaderTasks.RangeOf(_scratchHead, task, anchor);
            // On the thread pool: whatever a peer does before its first real await (an in-process peer builds its
            // whole answer) must not run on the loop's thread and stall every other event behind it.
            _ = Task.Run(() => FetchAsync(cycle, range, peer, token), CancellationToken.None);
        }
        // Wake when the first rest ends, if a peer rests: nothing else may come to make the loop look again.
        if (_backoff.NextWake() is { } wake)
        {
            _restTimer.Change(wake, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task FetchAsync(int cycle, HeaderRange range, ISyncPeer peer, CancellationToken token)
    {
        var started = _time.GetTimestamp();
        IReadOnlyList<BlockHeader>? headers = null;
        var verdict = ResponseVerdict.Accepted;
        TimeSpan? answeredAfter = null;
        string? failure = null;
        using var timer = new CancellationTokenSource(_peers.TimeoutFor(peer), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timer.Token);
        try
        {
            headers = await peer.GetHeadersReverseAsync(range.Origin, range.Count, linked.Token).ConfigureAwait(false);
            answeredAfter = _time.GetElapsedTime(started); // the peer's round trip, without our checking
            // Checked here, in the request's task, as geth's executeTask does: the hashing (a keccak per header) runs
            // beside the loop instead of on it, which leaves the loop little but the writes.
            verdict = ResponseCheck.Check(range, headers);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            failure = $"no answer within {_peers.TimeoutFor(peer).TotalSeconds:F0} s";
        }
        catch (OperationCanceledException)
        {
            failure = Cancelled;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever a peer throws is its failure, not ours: untrusted input (docs/quality.md).
            failure = e.Message;
        }
        _events.Writer.TryWrite(new Delivery(cycle, range, peer, headers, verdict, failure, answeredAfter ?? _time.GetElapsedTime(started)));
    }

    private const string Cancelled = "cancelled";

    /// <summary>
    /// A delivery: checked, copied into the scratch window, and every complete batch adjoining the tail consumed —
    /// written with the progress in one transaction. Returns whether the subchain linked or merged.
    /// </summary>
    private (bool Linked, bool Merged) OnDelivery(Delivery d)
    {
        _peers.MarkIdle(d.Peer);
        var task = d.Range.Origin <= _scratchHead && (_scratchHead - d.Range.Origin) % HeaderTasks.RequestHeaders == 0
            ? (int)((_scratchHead - d.Range.Origin) / HeaderTasks.RequestHeaders)
            : -1;
        if (task < 0 || task >= _owners.Length || !ReferenceEquals(_owners[task], d.Peer))
        {
            return (false, false); // the window moved on or the task was given to another peer
        }
        if (d.Failure is not null)
        {
            _owners[task] = null;
            if (d.Failure != Cancelled)
            {
                Drop(d.Peer, d.Failure);
            }
            return (false, false);
        }
        var verdict = d.Verdict;
        if (verdict.Problem != ResponseProblem.None)
        {
            _owners[task] = null;
            if (verdict.Blame == Blame.Peer)
            {
                Drop(d.Peer, verdict.Reason);
            }
            else
            {
                // It lacks the range: another idle peer goes first, and this one rests before it is asked again.
                _declined[task] = d.Peer;
                var rest = _backoff.Strike(d.Peer);
                Log.PeerResting(_logger, d.Peer.Id, d.Range.Origin, rest.Strikes, rest.Until - _time.GetUtcNow());
            }
            return (false, false);
        }
        _backoff.Clear(d.Peer);
        _peers.Update(d.Peer, d.Headers!.Count, d.Elapsed);
        // An accepted answer starts at its task's origin and is no longer than the task (ResponseCheck).
        var slots = _scratch[task];
        for (var i = 0; i < d.Headers.Count; i++)
        {
            slots[i] = d.Headers[i];
        }
        return ConsumeScratch();
    }

    private (bool Linked, bool Merged) ConsumeScratch()
    {
        var batch = new List<BlockHeader>();
        var stale = new List<NumberRange>();
        var linked = false;
        var merged = false;
        while (_scratch[0][0] is { } first)
        {
            var slots = _scratch[0];
            var subchain = _progress!.Subchains[0];
            if (subchain.Next != first.Hash)
            {
                // The batch adjoining the tail must link to `next`: discard it and drop whoever served it.
                Log.InvalidSkeletonHeaders(_logger, subchain.Tail - 1, subchain.Next, first.Hash);
                Array.Clear(slots);
                if (_owners[0] is { } owner)
                {
                    Drop(owner, "headers do not link to the subchain tail");
                }
                _owners[0] = null;
                break;
            }
            var consumed = 0;
            for (var i = 0; i < slots.Length && slots[i] is { } header; i++)
            {
                consumed++;
                batch.Add(header);
                _pulled++;
                subchain = subchain with { Tail = header.Number, Next = header.ParentHash };
                linked = _chain.IsLinked(header.Number - 1, header.ParentHash);
                if (linked)
                {
                    break;
                }
            }
            _progress = ReplaceNewest(_progress, subchain);
            if (linked)
            {
                var merge = SkeletonRules.MergeSubchains(_progress, _store.GetHeader);
                var settled = SkeletonRules.SettleLinked(merge.Progress, _store.GetHeader);
                _progress = settled.Progress;
                stale.AddRange(settled.Stale);
                if (settled.Spurious)
                {
                    Log.SpuriousLeftovers(_logger);
                }
                break;
            }
            Array.Clear(slots);
            HeaderTasks.Shift(_scratch.AsSpan(), 1);
            _scratch[^1] = slots;
            HeaderTasks.Shift(_owners.AsSpan(), 1);
            HeaderTasks.Shift(_declined.AsSpan(), 1);
            HeaderTasks.Shift(_askedAt.AsSpan(), 1);
            _scratchHead -= (ulong)consumed;
            var merging = SkeletonRules.MergeSubchains(_progress, _store.GetHeader);
            _progress = merging.Progress;
            if (merging.Merged)
            {
                merged = true;
                break;
            }
        }
        if (batch.Count > 0)
        {
            _store.WriteBatch(batch, _progress!);
            _progressAt = _time.GetTimestamp();
        }
        DeleteStale(stale);
        LogProgress(linked);
        return (linked, merged);
    }

    /// <summary>
    /// The stall watchdog (docs/sync.md): no header written for <see cref="StallTimeout"/> while there are live peers and
    /// headers to fetch. Says so at Warn, then retries: a request out longer than its peer's timeout means the peer
    /// ignores cancellation, so it is dropped and its task freed; every resting peer is asked again (its streak kept,
    /// so one that still answers empty rests as long as before); tasks answered empty may go to anyone. The loop
    /// then hands out the free tasks as after any event. The next warning needs another full period without progress.
    /// </summary>
    private void CheckStalled()
    {
        var stalledFor = _time.GetElapsedTime(_progressAt);
        var anchor = _chain.AnchorNumber; // above a checkpoint there may be nothing left to fetch
        var fitting = HeaderTasks.TasksFitting(_scratchHead, anchor);
        var live = _peers.Count;
        if (stalledFor < StallTimeout || live == 0 || fitting == 0)
        {
            return;
        }
        var outstanding = 0;
        var hung = 0;
        for (var task = 0; task < fitting; task++)
        {
            if (_owners[task] is not { } owner)
            {
                continue;
            }
            outstanding++;
            var outFor = _time.GetElapsedTime(_askedAt[task]);
            if (outFor > _peers.TimeoutFor(owner) + StallCheckInterval)
            {
                hung++;
                _owners[task] = null;
                Drop(owner, $"request for #{HeaderTasks.RangeOf(_scratchHead, task, anchor).Origin} outstanding {outFor.TotalSeconds:F0} s, past its timeout");
            }
        }
        var resting = _backoff.Running().Count;
        Log.Stalled(_logger, stalledFor, _progress!.Subchains[0].Tail, live, outstanding, hung, resting);
        _backoff.EndRests();
        Array.Clear(_declined);
        _progressAt = _time.GetTimestamp();
    }

    /// <summary>
    /// After the backfiller filled up to <paramref name="filled"/>, the skeleton headers it consumed are deleted
    /// and the newest subchain's tail moves up (geth's cleanStales). Each step is one transaction.
    /// </summary>
    private void CleanStales(BlockHeader filled)
    {
        if (_progress is not { Subchains: [var subchain, ..] })
        {
            return;
        }
        var number = filled.Number;
        if (number + 1 <= subchain.Tail || _store.GetHeader(number) is not { } stored || stored.Hash != filled.Hash)
        {
            return; // nothing consumed yet, or the filled block is not on this skeleton
        }
        Subchain moved;
        NumberRange deleted;
        if (number < subchain.Head)
        {
            var tail = _store.GetHeader(number + 1);
            if (tail is null || tail.ParentHash != filled.Hash)
            {
                Log.DiscontinuousFill(_logger, number, filled.Hash);
                return;
            }
            moved = subchain with { Tail = number + 1, Next = tail.ParentHash };
            deleted = new NumberRange(subchain.Tail, number);
        }
        else
        {
            var head = _store.GetHeader(subchain.Head)!;
            moved = subchain with { Tail = subchain.Head, Next = head.ParentHash };
            deleted = new NumberRange(subchain.Tail, subchain.Head - 1);
        }
        _progress = ReplaceNewest(_progress, moved);
        if (deleted.To >= deleted.From)
        {
            _store.DeleteHeaders(deleted.From, deleted.To, _progress);
        }
        else
        {
            _store.SaveProgress(_progress);
        }
    }

    private (BlockHeader? Filled, BlockHeader? Forced, TaskCompletionSource? Terminate) SuspendFiller()
    {
        var suspend = _filler.SuspendAsync(_stop.Token);
        BlockHeader? forced = null;
        TaskCompletionSource? terminate = null;
        while (!suspend.IsCompleted)
        {
            var readable = _events.Reader.WaitToReadAsync(_stop.Token).AsTask();
            Task.WaitAny(suspend, readable);
            while (_events.Reader.TryRead(out var ev))
            {
                switch (ev)
                {
                    case HeadEvent { Force: true } h:
                        forced = h.Header;
                        h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
                        break;
                    case HeadEvent h:
                        h.Reply.TrySetResult(SyncRequestOutcome.RefusedNotExtending);
                        break;
                    case Delivery d:
                        _peers.MarkIdle(d.Peer);
                        break;
                    case Terminate t:
                        terminate = t.Done;
                        break;
                    default:
                        break;
                }
            }
        }
        BlockHeader? filled = null;
        try
        {
            filled = suspend.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        return (filled, forced, terminate);
    }

    /// <summary>The next event, blocking the loop's own thread until one comes; cancelled when the sync stops.</summary>
    private SkeletonEvent NextEvent()
    {
        SkeletonEvent? ev;
        while (!_events.Reader.TryRead(out ev))
        {
            if (!_events.Reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
            {
                throw new OperationCanceledException("the event channel is closed");
            }
        }
        return ev;
    }

    private void Drop(ISyncPeer peer, string reason)
    {
        if (_peers.Drop(peer, reason))
        {
            Log.PeerDropped(_logger, peer.Id, reason);
        }
    }

    private void DeleteStale(IReadOnlyList<NumberRange> stale)
    {
        foreach (var range in stale)
        {
            _store.DeleteHeaders(range.From, range.To, _progress!);
        }
    }

    private static SkeletonProgress ReplaceNewest(SkeletonProgress progress, Subchain newest)
    {
        var subchains = progress.Subchains.ToArray();
        subchains[0] = newest;
        return progress with { Subchains = subchains };
    }

    private void LogProgress(bool linked)
    {
        var left = linked || _progress is not { Subchains: [var newest, ..] } ? 0 : newest.Tail - 1;
        if (_time.GetElapsedTime(_loggedAt) < LogInterval && left != 0)
        {
            return;
        }
        _loggedAt = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_startedAt);
        var eta = _pulled == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)(elapsed.Ticks / (double)_pulled * left));
        Log.Syncing(_logger, _pulled, left, _pulled / Math.Max(elapsed.TotalSeconds, 0.001), eta);
    }

    private void Publish(SkeletonState state)
    {
        var elapsed = _time.GetElapsedTime(_startedAt).TotalSeconds;
        _snapshot = new SkeletonSnapshot(state, _progress, _linked, _pulled, _startedAt == 0 ? 0 : _pulled / Math.Max(elapsed, 0.001), _peers.Status())
        {
            Resting = _backoff.Running(),
        };
        AfterEvent?.Invoke(_snapshot);
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Debug, "Starting reverse header sync cycle head={Head} hash={Hash} cont={Cont} linked={Linked}")]
        public static partial void CycleStarting(ILogger logger, ulong head, EngineSkeleton.Core.Primitives.Hash256 hash, ulong cont, bool linked);

        [LoggerMessage(301, LogLevel.Debug, "Sync cycle ended reason={Reason}")]
        public static partial void CycleEnded(ILogger logger, CycleEnd reason);

        [LoggerMessage(302, LogLevel.Information, "Restarting sync cycle reason={Reason} head={Head} hash={Hash}")]
        public static partial void Restarting(ILogger logger, NewHeadOutcome reason, ulong head, EngineSkeleton.Core.Primitives.Hash256 hash);

        [LoggerMessage(303, LogLevel.Warning, "Local chain has been trimmed tailnumber={Tail} tailhash={Next}")]
        public static partial void LocalChainTrimmed(ILogger logger, ulong tail, EngineSkeleton.Core.Primitives.Hash256 next);

        [LoggerMessage(304, LogLevel.Warning, "Invalid skeleton headers number={Number} want={Want} have={Have}")]
        public static partial void InvalidSkeletonHeaders(ILogger logger, ulong number, EngineSkeleton.Core.Primitives.Hash256 want, EngineSkeleton.Core.Primitives.Hash256 have);

        [LoggerMessage(305, LogLevel.Warning, "Dropping sync peer id={Peer} reason={Reason}")]
        public static partial void PeerDropped(ILogger logger, string peer, string reason);

        [LoggerMessage(306, LogLevel.Information, "Syncing beacon headers downloaded={Downloaded} left={Left} rate={Rate:F0}/s eta={Eta}")]
        public static partial void Syncing(ILogger logger, ulong downloaded, ulong left, double rate, TimeSpan eta);

        [LoggerMessage(307, LogLevel.Error, "Cleaning spurious beacon sync leftovers")]
        public static partial void SpuriousLeftovers(ILogger logger);

        [LoggerMessage(309, LogLevel.Debug, "Peer answered a header task empty, resting id={Peer} origin={Origin} strikes={Strikes} rest={Rest}")]
        public static partial void PeerResting(ILogger logger, string peer, ulong origin, int strikes, TimeSpan rest);

        [LoggerMessage(310, LogLevel.Warning, "Beacon header sync stalled, retrying elapsed={Elapsed} tail={Tail} peers={Peers} inflight={InFlight} hung={Hung} resting={Resting}")]
        public static partial void Stalled(ILogger logger, TimeSpan elapsed, ulong tail, int peers, int inFlight, int hung, int resting);

        [LoggerMessage(308, LogLevel.Error, "Filled header is discontinuous with the skeleton number={Number} hash={Hash}")]
        public static partial void DiscontinuousFill(ILogger logger, ulong number, EngineSkeleton.Core.Primitives.Hash256 hash);
    }
}
