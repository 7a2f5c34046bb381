using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Backfill;

/// <summary>
/// Fills bodies forward up the linked skeleton (docs/sync.md, Backfill). It starts where the skeleton meets the canonical
/// chain — below the head when the skeleton is another branch, which rewinds the canonical index as the first run is
/// written (never below the finalized block: such a head is refused as too deep a reorg). Runs of skeleton headers
/// go to the idle peers, fastest first, several at once (<see cref="MaxRunsAhead"/>); answers are checked against
/// their headers as they arrive, put back in order, validated against their parents and written one chain-store
/// transaction per run. A peer whose bodies do not match is dropped and its run asked of another. A block that fails
/// validation ends the fill: the valid blocks before it are written, and it, the skeleton headers above it and the
/// skeleton head are remembered as bad (<see cref="InvalidBlocks"/>) with the last block written as their last valid
/// ancestor; the fill does not chase that head again.
/// </summary>
public sealed partial class Backfiller(
    ChainStore chain,
    SkeletonStore skeleton,
    PeerSet peers,
    BlockValidator validator,
    TimeProvider time,
    ILogger<Backfiller> logger,
    InvalidBlocks? invalid = null) : IBackfiller
{
    /// <summary>Bodies per request and per chain-store transaction: geth asks 128 bodies at a time.</summary>
    public const int BatchSize = 128;

    /// <summary>
    /// Runs fetched, in flight or waiting for the writer at once: 16 × 128 = 2,048 blocks ahead of the canonical head
    /// at most, which bounds the memory held for reordering (with 100 KB bodies, ~200 MB) whatever the peer count,
    /// and gives up to 16 peers a run each.
    /// </summary>
    public const int MaxRunsAhead = 16;

    private readonly InvalidBlocks _invalid = invalid ?? new InvalidBlocks();
    private readonly Lock _lock = new();
    private CancellationTokenSource? _cancel;
    private Task? _run;
    private BlockHeader? _lastFilled;
    private bool _again;

    /// <summary>Test hook: called after each written run with the new canonical head.</summary>
    internal Action<BlockHeader>? AfterRun { get; set; }

    /// <summary>Test hook: called when a fill refuses the skeleton head (bad block or too deep a reorg), after the table is updated.</summary>
    internal Action<BlockHeader, FillRefusal>? AfterRefusal { get; set; }

    public void Resume()
    {
        lock (_lock)
        {
            if (_run is { IsCompleted: false })
            {
                _again = true; // the running fill looks once more before it stops (a peer may have joined)
                return;
            }
            _cancel = new CancellationTokenSource();
            var token = _cancel.Token;
            _run = Task.Run(() => FillAsync(token), CancellationToken.None);
        }
    }

    public async Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken)
    {
        Task? run;
        lock (_lock)
        {
            run = _run;
            _cancel?.Cancel();
        }
        if (run is not null)
        {
            try
            {
                await run.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        lock (_lock)
        {
            return _lastFilled;
        }
    }

    private async Task FillAsync(CancellationToken token)
    {
        while (true)
        {
            await FillOnceAsync(token).ConfigureAwait(false);
            lock (_lock)
            {
                if (!_again || token.IsCancellationRequested)
                {
                    return;
                }
                _again = false;
            }
        }
    }

    private async Task FillOnceAsync(CancellationToken token)
    {
        try
        {
            if (skeleton.LoadProgress() is not { Subchains: [var subchain] } || skeleton.GetHeader(subchain.Head) is not { } target)
            {
                return;
            }
            if (_invalid.TryGet(target.Hash, out _) || _invalid.IsTooDeep(target.Hash))
            {
                return; // refused before: not chased again until a new forced head changes the skeleton
            }
            if (ForkPoint(subchain) is not { } start)
            {
                return;
            }
            if (start.Number >= subchain.Head)
            {
                // Filled already, perhaps by an earlier process: report the head as filled all the same, so the skeleton
                // deletes the headers the chain now holds (geth's filler reports the chain head after a completed fill).
                lock (_lock)
                {
                    _lastFilled = start;
                }
                return;
            }
            var head = chain.HeadHeader;
            if (start.Number < head.Number)
            {
                if (chain.FinalizedHash is { } f && chain.GetHeader(f) is { } finalized && finalized.Number > start.Number)
                {
                    _invalid.AddTooDeep(target.Hash);
                    Log.TooDeepReorg(logger, target.Number, target.Hash, start.Number, finalized.Number);
                    AfterRefusal?.Invoke(target, FillRefusal.TooDeepReorg);
                    return;
                }
                Log.Reorg(logger, head.Number, head.Hash, start.Number, target.Number, target.Hash);
            }
            await FillFromAsync(start, target, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException e)
        {
            // The chain store refused a run (its finalized block moved under the fill): stop here rather than fault
            // the skeleton loop that suspends us; the next resume starts again from what is canonical then.
            Log.FillStopped(logger, e.Message);
        }
    }

    /// <summary>
    /// The newest block the skeleton and the canonical chain share: the skeleton hangs off the canonical block below its
    /// tail (the link), and both chains are hash-linked, so once they differ at a number they differ above it too; a
    /// binary search over [tail − 1, min(local head, skeleton head)] finds it in a few lookups. Null if the skeleton
    /// does not hang off the canonical chain (it is not linked).
    /// </summary>
    private BlockHeader? ForkPoint(Subchain subchain)
    {
        var low = subchain.Tail - 1;
        if (chain.GetCanonicalHash(low) != subchain.Next)
        {
            return null;
        }
        var high = Math.Min(chain.HeadHeader.Number, subchain.Head);
        while (low < high)
        {
            var mid = low + ((high - low + 1) / 2);
            if (skeleton.GetHeader(mid) is { } header && chain.GetCanonicalHash(mid) == header.Hash)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }
        return chain.GetCanonicalHeader(low);
    }

    /// <summary>
    /// Fetches runs above <paramref name="start"/> up to <paramref name="target"/> from several peers at once and
    /// writes them in order. Returns when the target is written, a block is bad, the skeleton stops hanging together,
    /// no peer is left to ask, or the fill is cancelled; the next resume carries on from the canonical head.
    /// </summary>
    private async Task FillFromAsync(BlockHeader start, BlockHeader target, CancellationToken token)
    {
        var parent = start;                                        // the last block written (or the fork point)
        var scheduled = start;                                     // the last header handed out in a run
        var skeletonEnds = false;
        var again = new SortedDictionary<ulong, List<BlockHeader>>(); // runs to ask again, by first number
        var fetched = new Dictionary<ulong, List<Block>>();         // runs waiting for the writer, by first number
        var inFlight = new Dictionary<Task<Fetch>, ISyncPeer>();
        var lacking = new HashSet<string>(StringComparer.Ordinal);  // peers that answered a run empty: not asked again this fill
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        try
        {
            while (!token.IsCancellationRequested)
            {
                foreach (var peer in peers.IdlePeersFastestFirst())
                {
                    if (lacking.Contains(peer.Id))
                    {
                        continue;
                    }
                    var run = TakeRun();
                    if (run is null)
                    {
                        break;
                    }
                    if (!peers.MarkBusy(peer))
                    {
                        again[run[0].Number] = run;
                        continue;
                    }
                    inFlight.Add(FetchAsync(peer, run, cancel.Token), peer);
                }
                if (inFlight.Count == 0)
                {
                    return; // everything written, or nobody to ask now: the next resume tries again
                }
                var done = await Task.WhenAny(inFlight.Keys).ConfigureAwait(false);
                inFlight.Remove(done);
                var fetch = await done.ConfigureAwait(false);
                Receive(fetch);
                while (fetched.Remove(parent.Number + 1, out var blocks))
                {
                    var (valid, error) = Validate(blocks, parent);
                    if (valid.Count > 0)
                    {
                        chain.WriteCanonical(valid);
                        parent = valid[^1].Header;
                        lock (_lock)
                        {
                            _lastFilled = parent;
                        }
                        Log.Filled(logger, valid[0].Header.Number, parent.Number, target.Number - parent.Number);
                        AfterRun?.Invoke(parent);
                    }
                    if (error is not null)
                    {
                        RefuseBadBlock(blocks[valid.Count].Header, parent, target, error);
                        return;
                    }
                }
            }
        }
        finally
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(inFlight.Keys).ConfigureAwait(false); // each fetch frees its peer; none throws
        }

        // The lowest run to ask again, else the next run of skeleton headers while the window has room.
        List<BlockHeader>? TakeRun()
        {
            if (again.Count > 0)
            {
                var first = again.First();
                again.Remove(first.Key);
                return first.Value;
            }
            if (skeletonEnds || scheduled.Number >= target.Number || scheduled.Number >= parent.Number + (MaxRunsAhead * BatchSize))
            {
                return null;
            }
            var run = NextRun(scheduled, Math.Min(target.Number, scheduled.Number + BatchSize));
            if (run.Count < (int)(Math.Min(target.Number, scheduled.Number + BatchSize) - scheduled.Number))
            {
                skeletonEnds = true;
            }
            if (run.Count == 0)
            {
                return null;
            }
            scheduled = run[^1];
            return run;
        }

        // An answer: keep what matched, ask again for the rest, judge the peer.
        void Receive(Fetch fetch)
        {
            var run = fetch.Run;
            switch (fetch.Outcome)
            {
                case FetchOutcome.Served:
                    peers.Update(fetch.Peer, fetch.Blocks!.Count, fetch.Elapsed, RateKind.Bodies);
                    fetched[run[0].Number] = fetch.Blocks;
                    if (fetch.Blocks.Count < run.Count)
                    {
                        again[run[fetch.Blocks.Count].Number] = run[fetch.Blocks.Count..];
                    }
                    return;
                case FetchOutcome.Empty:
                    lacking.Add(fetch.Peer.Id);
                    break;
                case FetchOutcome.Cancelled:
                    break;
                default:
                    if (peers.Drop(fetch.Peer, fetch.Failure!))
                    {
                        Log.PeerDropped(logger, fetch.Peer.Id, fetch.Failure!);
                    }
                    break;
            }
            again[run[0].Number] = run;
        }
    }

    /// <summary>
    /// Remembers <paramref name="bad"/>, the skeleton headers above it and the skeleton head as invalid, with the last
    /// block written as their last valid ancestor (geth's setInvalidAncestor, extended to every skeleton header).
    /// </summary>
    private void RefuseBadBlock(BlockHeader bad, BlockHeader lastValid, BlockHeader target, string error)
    {
        Log.InvalidBlock(logger, bad.Number, bad.Hash, error, lastValid.Number, lastValid.Hash);
        var descendants = new List<Hash256>();
        var expected = target.Hash;
        for (var n = target.Number; n > bad.Number && descendants.Count < InvalidBlocks.MaxDescendants; n--)
        {
            if (skeleton.GetHeader(n) is not { } header || header.Hash != expected)
            {
                break; // the skeleton moved on under us; the head and what was read so far are still right
            }
            descendants.Add(header.Hash);
            expected = header.ParentHash;
        }
        if (descendants.Count == 0 && target.Hash != bad.Hash)
        {
            descendants.Add(target.Hash);
        }
        _invalid.AddBadChain(bad.Hash, lastValid.Hash, descendants);
        AfterRefusal?.Invoke(target, FillRefusal.InvalidBlock);
    }

    /// <summary>The blocks of a run that pass their header checks, in order, and the first failure if one does not.</summary>
    private (List<Block> Valid, string? Error) Validate(List<Block> blocks, BlockHeader parent)
    {
        var valid = new List<Block>(blocks.Count);
        foreach (var block in blocks)
        {
            var result = validator.ValidateWithCheckedBody(block, parent); // bodies were checked in Match
            if (!result.IsValid)
            {
                return (valid, result.Error);
            }
            valid.Add(block);
            parent = block.Header;
        }
        return (valid, null);
    }

    /// <summary>Skeleton headers above <paramref name="after"/> up to <paramref name="last"/>, each hanging off the one before.</summary>
    private List<BlockHeader> NextRun(BlockHeader after, ulong last)
    {
        var headers = new List<BlockHeader>((int)(last - after.Number));
        var parent = after;
        for (var n = after.Number + 1; n <= last; n++)
        {
            var header = skeleton.GetHeader(n);
            if (header is null || header.ParentHash != parent.Hash)
            {
                Log.SkeletonGap(logger, n);
                break;
            }
            headers.Add(header);
            parent = header;
        }
        return headers;
    }

    /// <summary>One request for a run's bodies, checked against the headers here, beside the writer; it never throws.</summary>
    private async Task<Fetch> FetchAsync(ISyncPeer peer, List<BlockHeader> run, CancellationToken token)
    {
        // Leave the writer before calling the peer: an in-process peer builds its whole answer before its first await.
        await Task.Yield();
        var started = time.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(peers.TimeoutFor(peer), time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
            var bodies = await peer.GetBodiesAsync([.. run.Select(h => h.Hash)], linked.Token).ConfigureAwait(false);
            var elapsed = time.GetElapsedTime(started);
            if (bodies.Count == 0 || bodies[0] is null)
            {
                return new Fetch(peer, run, FetchOutcome.Empty, null, elapsed, null);
            }
            return Match(run, bodies) is { } blocks
                ? new Fetch(peer, run, FetchOutcome.Served, blocks, elapsed, null)
                : new Fetch(peer, run, FetchOutcome.Failed, null, elapsed, "served bodies that do not match their headers");
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return new Fetch(peer, run, FetchOutcome.Cancelled, null, default, null);
        }
        catch (OperationCanceledException)
        {
            return new Fetch(peer, run, FetchOutcome.Failed, null, default, "no bodies within the timeout");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever a peer throws is its failure, not ours: untrusted input (docs/quality.md).
            return new Fetch(peer, run, FetchOutcome.Failed, null, default, e.Message);
        }
        finally
        {
            peers.MarkIdle(peer);
        }
    }

    /// <summary>Pairs headers with bodies up to the first missing one; a body that breaks its header's roots spoils the answer.</summary>
    private List<Block>? Match(List<BlockHeader> headers, IReadOnlyList<BlockBody?> bodies)
    {
        var blocks = new List<Block>(Math.Min(headers.Count, bodies.Count));
        for (var i = 0; i < headers.Count && i < bodies.Count; i++)
        {
            if (bodies[i] is not { } body)
            {
                break;
            }
            var block = new Block(headers[i], body);
            if (!validator.ValidateBody(block, allowOmmers: !headers[i].Difficulty.IsZero).IsValid)
            {
                return null;
            }
            blocks.Add(block);
        }
        return blocks;
    }

    private enum FetchOutcome
    {
        Served,
        Empty,
        Failed,
        Cancelled,
    }

    /// <summary>What one body request came back with; <c>Failure</c> is why the peer is dropped.</summary>
    private sealed record Fetch(ISyncPeer Peer, List<BlockHeader> Run, FetchOutcome Outcome, List<Block>? Blocks, TimeSpan Elapsed, string? Failure);

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Information, "Imported blocks from={From} to={To} left={Left}")]
        public static partial void Filled(ILogger logger, ulong from, ulong to, ulong left);

        [LoggerMessage(401, LogLevel.Error, "Backfilled block is invalid number={Number} hash={Hash} error={Error} lastvalid={LastValidNumber} lastvalidhash={LastValidHash}")]
        public static partial void InvalidBlock(ILogger logger, ulong number, Hash256 hash, string error, ulong lastValidNumber, Hash256 lastValidHash);

        [LoggerMessage(402, LogLevel.Debug, "Skeleton does not continue the local chain at number={Number}")]
        public static partial void SkeletonGap(ILogger logger, ulong number);

        [LoggerMessage(403, LogLevel.Warning, "Rewinding the canonical chain to fill another branch head={Head} hash={Hash} ancestor={Ancestor} target={Target} targethash={TargetHash}")]
        public static partial void Reorg(ILogger logger, ulong head, Hash256 hash, ulong ancestor, ulong target, Hash256 targetHash);

        [LoggerMessage(404, LogLevel.Error, "Refusing a head that reorgs below the finalized block head={Head} hash={Hash} ancestor={Ancestor} finalized={Finalized}")]
        public static partial void TooDeepReorg(ILogger logger, ulong head, Hash256 hash, ulong ancestor, ulong finalized);

        [LoggerMessage(406, LogLevel.Error, "Backfill stopped error={Error}")]
        public static partial void FillStopped(ILogger logger, string error);

        [LoggerMessage(405, LogLevel.Warning, "Dropping sync peer id={Peer} reason={Reason}")]
        public static partial void PeerDropped(ILogger logger, string peer, string reason);
    }
}

/// <summary>Why a fill refused the skeleton head.</summary>
public enum FillRefusal
{
    /// <summary>A block on the way failed validation.</summary>
    InvalidBlock,

    /// <summary>Filling it would rewind the canonical chain below the finalized block.</summary>
    TooDeepReorg,
}
