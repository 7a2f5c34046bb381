using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// Retrieval (docs/sync.md, A cycle, steps 2–4): tasks to idle peers, answers checked beside the loop, consumed into
/// the store from the tail down; and the stall watchdog over it.
/// </summary>
public sealed partial class SkeletonSync
{
    /// <summary>
    /// How long the sync may go without writing a header, while it has peers and headers to fetch, before the
    /// watchdog calls it stalled. Longer than the 60 s cap on a request's timeout
    /// (<see cref="MessageRate.TimeoutCap"/>), so a request that timed out the ordinary way has been retried by then;
    /// what is left is what timeouts do not catch: every peer answering empty, or a peer that ignores its timeout.
    /// </summary>
    internal static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(90);

    /// <summary>How often the watchdog looks; a stall is noticed at most this long after <see cref="StallTimeout"/>.</summary>
    internal static readonly TimeSpan StallCheckInterval = TimeSpan.FromSeconds(10);

    /// <summary>The failure of a request the cycle cancelled: the peer did nothing wrong.</summary>
    private const string Cancelled = "cancelled";

    /// <summary>
    /// Free request slots of the peers not resting, fastest first and each peer's first slot before any peer's second
    /// (<see cref="PeerSet.FreeSlotsFastestFirst"/>), take the lowest free tasks (docs/sync.md, Retrieval).
    /// </summary>
    private void AssignTasks(SkeletonCycle cycle)
    {
        var window = cycle.Window;
        var idle = new List<ISyncPeer>(_peers.FreeSlotsFastestFirst());
        idle.RemoveAll(_backoff.IsResting);
        var anchor = _chain.AnchorNumber; // a checkpoint: nothing at or below it is asked for
        var fitting = HeaderTasks.TasksFitting(window.Head, anchor);
        for (var task = 0; task < fitting && idle.Count > 0; task++)
        {
            if (window.OwnerOf(task) is not null)
            {
                continue;
            }
            // A peer that answered this task empty lacks it: another idle peer goes first. Otherwise a tie in the
            // estimates hands the task back to the same peer for ever and the peer that has the headers never
            // gets it. Alone, the lacking peer is asked again once its rest is over (it may have caught up; geth
            // asks again at once, which with a lone lacking peer is a request per loop turn).
            var pick = window.DeclinedBy(task) is { } decliner ? Math.Max(0, idle.FindIndex(p => !ReferenceEquals(p, decliner))) : 0;
            var peer = idle[pick];
            idle.RemoveAt(pick);
            window.Assign(task, peer, _time.GetTimestamp());
            _peers.MarkBusy(peer);
            var range = HeaderTasks.RangeOf(window.Head, task, anchor);
            var (number, token) = (cycle.Number, cycle.Token);
            // On the thread pool: whatever a peer does before its first real await (an in-process peer builds its
            // whole answer) must not run on the loop's thread and stall every other event behind it.
            _ = Threading.Run(() => FetchAsync(number, range, peer, token));
        }
        // Wake when the first rest ends, if a peer rests: nothing else may come to make the loop look again.
        if (_backoff.NextWake() is { } wake)
        {
            _restTimer.Change(wake, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>One request, off the loop: always posts a <see cref="Delivery"/>, so its peer is freed whatever happens.</summary>
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

    /// <summary>
    /// A delivery, and every delivery of this cycle queued behind it: each checked and copied into the scratch window,
    /// then every complete batch adjoining the tail consumed — written with the progress in one transaction. Returns
    /// whether the subchain linked or merged. The write is the loop's longest step (LiteDB's commit; docs/benchmarks.md):
    /// deliveries that queued while one ran are written in one, not a commit each. The peers they free are asked again
    /// after it, as geth does: asked before it, they would fetch what a merge it makes leaves needless.
    /// </summary>
    private (bool Linked, bool Merged) OnDeliveries(SkeletonCycle cycle, Delivery d)
    {
        var placed = Place(cycle, d);
        // Bounded: a delivery answers a task the window gave out, and the window has a fixed number of them.
        while (_events.Reader.TryPeek(out var next) && next is Delivery queued && queued.Cycle == cycle.Number)
        {
            _events.Reader.TryRead(out _);
            placed |= Place(cycle, queued);
        }
        if (!placed)
        {
            return (false, false);
        }
        return ConsumeScratch(cycle);
    }

    /// <summary>A delivery checked, and its headers copied into the scratch window; false if it placed none.</summary>
    private bool Place(SkeletonCycle cycle, Delivery d)
    {
        _peers.MarkIdle(d.Peer);
        var window = cycle.Window;
        var task = window.TaskAt(d.Range.Origin);
        if (task < 0 || !ReferenceEquals(window.OwnerOf(task), d.Peer))
        {
            return false; // the window moved on or the task was given to another peer
        }
        if (d.Failure is not null)
        {
            window.Free(task);
            if (d.Failure != Cancelled)
            {
                Drop(d.Peer, d.Failure, DropCause.Unresponsive); // no answer, or one that failed in transit
            }
            return false;
        }
        var verdict = d.Verdict;
        if (verdict.Problem != ResponseProblem.None)
        {
            window.Free(task);
            if (verdict.Blame == Blame.Peer)
            {
                Drop(d.Peer, verdict.Reason, DropCause.Misbehaved);
            }
            else
            {
                // It lacks the range: another idle peer goes first, and this one rests before it is asked again.
                window.Decline(task, d.Peer);
                var rest = _backoff.Strike(d.Peer);
                Log.PeerResting(_logger, d.Peer.Id, d.Range.Origin, rest.Strikes, rest.Until - _time.GetUtcNow());
            }
            return false;
        }
        _backoff.Clear(d.Peer);
        _peers.Update(d.Peer, d.Headers!.Count, d.Elapsed);
        // An accepted answer starts at its task's origin and is no longer than the task (ResponseCheck).
        var slots = window.SlotsOf(task);
        for (var i = 0; i < d.Headers.Count; i++)
        {
            slots[i] = d.Headers[i];
        }
        return true;
    }

    /// <summary>
    /// Every complete batch adjoining the tail, in order (geth's processResponse): linked to <c>next</c>, the tail
    /// moved down header by header until one links to the local chain, then older subchains merged. All of it is
    /// written in one transaction with the progress, so a kill -9 leaves the store at a batch boundary.
    /// </summary>
    private (bool Linked, bool Merged) ConsumeScratch(SkeletonCycle cycle)
    {
        var window = cycle.Window;
        var batch = new List<BlockHeader>();
        var stale = new List<NumberRange>();
        var linked = false;
        var merged = false;
        while (window.SlotsOf(0)[0] is { } first)
        {
            var slots = window.SlotsOf(0);
            var subchain = _progress!.Subchains[0];
            if (subchain.Next != first.Hash)
            {
                // Only here does an answer meet the chain it claims to extend (ResponseCheck saw its internal links
                // alone): a batch that does not hash to `next` is another chain's, so it goes and so does its server.
                Log.InvalidSkeletonHeaders(_logger, subchain.Tail - 1, subchain.Next, first.Hash);
                if (window.OwnerOf(0) is { } owner)
                {
                    Drop(owner, "headers do not link to the subchain tail", DropCause.Misbehaved);
                }
                window.DiscardFirst();
                break;
            }
            var consumed = 0;
            for (var i = 0; i < slots.Length && slots[i] is { } header; i++)
            {
                consumed++;
                batch.Add(header);
                subchain = subchain with { Tail = header.Number, Next = header.ParentHash };
                linked = _chain.IsLinked(header.Number - 1, header.ParentHash);
                if (linked)
                {
                    break;
                }
            }
            _stats.Add(consumed);
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
            window.Slide(consumed);
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
            _health.Succeeded();
            cycle.ProgressAt = _time.GetTimestamp();
            if (!linked && !merged)
            {
                CheckAnotherNetwork();
            }
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
    private void CheckStalled(SkeletonCycle cycle)
    {
        var window = cycle.Window;
        var stalledFor = _time.GetElapsedTime(cycle.ProgressAt);
        var anchor = _chain.AnchorNumber; // above a checkpoint there may be nothing left to fetch
        var fitting = HeaderTasks.TasksFitting(window.Head, anchor);
        var live = _peers.Count;
        if (stalledFor < StallTimeout || live == 0 || fitting == 0)
        {
            return;
        }
        var outstanding = 0;
        var hung = 0;
        for (var task = 0; task < fitting; task++)
        {
            if (window.OwnerOf(task) is not { } owner)
            {
                continue;
            }
            outstanding++;
            var outFor = _time.GetElapsedTime(window.AskedAt(task));
            if (outFor > _peers.TimeoutFor(owner) + StallCheckInterval)
            {
                hung++;
                window.Free(task);
                Drop(owner, $"request for #{HeaderTasks.RangeOf(window.Head, task, anchor).Origin} outstanding {outFor.TotalSeconds:F0} s, past its timeout", DropCause.Unresponsive);
            }
        }
        var resting = _backoff.Running().Count;
        Log.Stalled(_logger, stalledFor, _progress!.Subchains[0].Tail, live, outstanding, hung, resting);
        _backoff.EndRests();
        window.ForgetDeclines();
        cycle.ProgressAt = _time.GetTimestamp();
    }

    /// <summary>
    /// The newest subchain reached the block above our anchor (the genesis, or the checkpoint) without linking: its
    /// tail's parent is another block than our anchor, so the announced head is on another chain — the beacon node
    /// follows another network, or the datadir (or --sync.checkpoint) belongs to one (issue 13). Nothing is left to
    /// fetch below the anchor, so the cycle waits without asking anything (no busy loop); said once per foreign
    /// parent at Error, naming both hashes, and shown in skeleton_status; the skeleton is kept for inspection.
    /// </summary>
    private void CheckAnotherNetwork()
    {
        var anchor = _chain.AnchorNumber;
        if (_progress is not { Subchains: [var newest, ..] } || newest.Tail != anchor + 1 || _foreignParent == newest.Next)
        {
            return;
        }
        _foreignParent = newest.Next;
        var ours = _chain.AnchorHash;
        var head = _store.GetHeader(newest.Head);
        _foreignChain = $"the announced head #{newest.Head} {head?.Hash} does not descend from this node's anchor: its block #{newest.Tail} names parent "
            + $"{newest.Next}, this node has {ours?.ToString() ?? "another block"} at #{anchor}. The beacon node follows another network, or this datadir "
            + "(or --sync.checkpoint) belongs to one; the downloaded headers are kept for inspection and nothing more is fetched.";
        Log.AnotherNetwork(_logger, newest.Head, head?.Hash, anchor, ours, newest.Next);
    }

    private void Drop(ISyncPeer peer, string reason, DropCause cause)
    {
        if (_peers.Drop(peer, reason, cause))
        {
            Log.PeerDropped(_logger, peer.Id, reason);
        }
    }
}
