using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>A cycle (docs/sync.md, A cycle): start on a head, react to events until it ends, suspend the backfiller.</summary>
public sealed partial class SkeletonSync
{
    private (CycleEnd End, BlockHeader? Next) Cycle(BlockHeader? head, ulong? finalized)
    {
        var result = Download(head, finalized);
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
        return forced is not null && result.End != CycleEnd.Terminated ? (CycleEnd.Reorged, forced) : result;
    }

    /// <summary>
    /// The cycle proper, with its own state and cancellation: both end here, so the scratch window (up to 131,072
    /// headers) is garbage before the backfiller is suspended, as geth drops its scratch space when sync() returns
    /// ("don't hold on to references after sync"), and every request of the cycle is cancelled.
    /// </summary>
    private (CycleEnd End, BlockHeader? Next) Download(BlockHeader? head, ulong? finalized)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var cycle = StartCycle(++_cycles, head, finalized, cancel.Token);
        try
        {
            return RunCycle(cycle);
        }
        finally
        {
            // Owners of cancelled requests stay busy until their delivery comes back (every fetch posts one) and is
            // read as stale: freeing them here let the next cycle hand them a second request while the first was
            // still out, and the stale delivery then freed a peer busy with the new one.
            // Cancellation callbacks (peers' requests) run on the thread pool, not on the loop's thread.
            Threading.CancelAsync(cancel).GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Fits the progress to the new head (<see cref="SkeletonRules.InitSync"/>, written with the head in one
    /// transaction), or resumes from the stored progress when there is none; then opens the window below the tail.
    /// </summary>
    private SkeletonCycle StartCycle(int number, BlockHeader? head, ulong? finalized, CancellationToken token)
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
            _health.Succeeded();
        }
        var scratchHead = _progress!.Subchains[0].Tail - 1;
        // A lone subchain whose next is a block of the local chain has nothing left to fetch (geth's linked check
        // at the top of sync()).
        _linked = _progress.Subchains.Count == 1 && _chain.IsLinked(scratchHead, _progress.Subchains[0].Next);
        var cycle = new SkeletonCycle(number, scratchHead, _linked, _time.GetTimestamp(), token);
        Log.CycleStarting(_logger, head.Number, head.Hash, scratchHead, _linked);
        if (_linked)
        {
            _health.Succeeded(); // nothing for the skeleton to write: the backfiller's writes are its own tracker's
            _filler.Resume();
        }
        return cycle;
    }

    private (CycleEnd, BlockHeader?) RunCycle(SkeletonCycle cycle)
    {
        while (true)
        {
            if (!cycle.Linked)
            {
                AssignTasks(cycle);
            }
            Publish(cycle.Linked ? SyncState.Linked : SyncState.Syncing);
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
                    if (OnHead(cycle, h) is { } end)
                    {
                        return end;
                    }
                    break;
                case PeersChanged when cycle.Linked:
                    _filler.Resume(); // the backfiller may have stopped for want of a peer with the bodies
                    break;
                case WatchdogTick when !cycle.Linked:
                    CheckStalled(cycle);
                    break;
                case Delivery d when d.Cycle != cycle.Number:
                    _peers.MarkIdle(d.Peer); // a request of an earlier cycle is back: its peer is free
                    if (cycle.Linked)
                    {
                        _filler.Resume(); // the backfiller may have stopped with this peer busy and no other idle
                    }
                    break;
                case Delivery d:
                    var (linked, merged) = OnDeliveries(cycle, d);
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
    private (CycleEnd, BlockHeader?)? OnHead(SkeletonCycle cycle, HeadEvent h)
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
        _health.Succeeded();
        h.Reply.TrySetResult(SyncRequestOutcome.Accepted);
        if (cycle.Linked)
        {
            // The head moved on while the backfiller fills: the link point must still be a block of the local chain,
            // else the headers below it are downloaded again (geth's errSyncTrimmed).
            if (_progress.Subchains.Count == 1 && _chain.IsLinked(cycle.Window.Head, _progress.Subchains[0].Next))
            {
                _filler.Resume();
            }
            else
            {
                Log.LocalChainTrimmed(_logger, cycle.Window.Head, _progress.Subchains[0].Next);
                return (CycleEnd.Trimmed, null);
            }
        }
        return null;
    }

    private (BlockHeader? Filled, BlockHeader? Forced, TaskCompletionSource? Terminate) SuspendFiller()
    {
        var suspend = _filler.SuspendAsync(_stop.Token);
        BlockHeader? forced = null;
        TaskCompletionSource? terminate = null;
        while (!suspend.IsCompleted)
        {
            if (Threading.Pump is { } pump)
            {
                pump(() => suspend.IsCompleted || _events.Reader.TryPeek(out _), _stop.Token);
            }
            else
            {
                var readable = _events.Reader.WaitToReadAsync(_stop.Token).AsTask();
                Task.WaitAny(suspend, readable);
            }
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A backfiller that failed is its own supervisor's to restart (Backfiller's tracker): the skeleton loop
            // carries on from the chain store's head; the last filled block is then unknown, so nothing is cleaned.
            Log.SuspendFailed(_logger, e.Message);
        }
        return (filled, forced, terminate);
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

    /// <summary>Headers no subchain covers any more; geth leaves them on disk, nothing reads outside the subchains.</summary>
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
}
