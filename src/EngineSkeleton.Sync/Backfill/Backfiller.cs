using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Supervision;
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
    /// at most, whatever the peer count, and fewer for large blocks (<see cref="BytesAhead"/>); up to 16 peers get a
    /// run each.
    /// </summary>
    public const int MaxRunsAhead = 16;

    /// <summary>
    /// Bodies held ahead of the canonical head at most, by the size of the bodies served so far: 64 MiB keeps the
    /// whole window of <see cref="MaxRunsAhead"/> runs for blocks under 32 KB and shrinks it for larger ones (five runs
    /// of mainnet-like 100 KB blocks, two at least), so the node's memory does not grow with its blocks' size
    /// (docs/benchmarks.md, Sync from a JSON-RPC peer; the 400 MB bound).
    /// </summary>
    public const long BytesAhead = 64L * 1024 * 1024;

    /// <summary>Bodies one write (one chain store transaction) takes at most, by the size served so far: 8 MiB.</summary>
    public const long BytesPerWrite = 8L * 1024 * 1024;

    /// <summary>
    /// Blocks below the skeleton head past which no reorg is expected when the beacon node named no finalized block the
    /// chain holds: geth's <c>params.FullImmutabilityThreshold</c> (90,000, ~12.5 days of 12 s slots), the bound its
    /// downloader freezes blocks by in the same case. Blocks that deep are written to the frozen files.
    /// </summary>
    public const ulong ImmutabilityThreshold = 90_000;

    private readonly InvalidBlocks _invalid = invalid ?? new InvalidBlocks();
    private readonly Lock _lock = new();
    private readonly FaultTracker _health = new("backfill", time, logger);
    private CancellationTokenSource? _cancel;
    private Task? _run;
    private BlockHeader? _lastFilled;
    private bool _again;

    /// <summary>Suspended by the skeleton (until its next Resume): a restart after a failure waits for that Resume.</summary>
    private bool _suspended = true;

    /// <summary>The pending restart after a failure (docs/reliability.md), or null.</summary>
    private ITimer? _restart;

    public SyncHealth Health => _health.Health;

    /// <summary>Where the fill runs: the thread pool, or a simulation's one thread (docs/simulation.md).</summary>
    internal SyncThreading Threading { get; init; } = SyncThreading.Product;

    /// <summary>Test hook: the fill's fault tracker.</summary>
    internal FaultTracker Supervisor => _health;

    /// <summary>Test hook: called after each written run with the new canonical head.</summary>
    internal Action<BlockHeader>? AfterRun { get; set; }

    /// <summary>Test hook: called when a fill refuses the skeleton head (bad block or too deep a reorg), after the table is updated.</summary>
    internal Action<BlockHeader, FillRefusal>? AfterRefusal { get; set; }

    public void Resume()
    {
        lock (_lock)
        {
            _suspended = false;
            if (_restart is not null)
            {
                return; // failed: the restart after the backoff starts the fill (and sees what changed meanwhile)
            }
            if (_run is { IsCompleted: false })
            {
                _again = true; // the running fill looks once more before it stops (a peer may have joined)
                return;
            }
            _cancel = new CancellationTokenSource();
            var token = _cancel.Token;
            _run = Threading.Run(() => FillAsync(token));
        }
    }

    public async Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken)
    {
        Task? run;
        lock (_lock)
        {
            run = _run;
            _cancel?.Cancel();
            _suspended = true;
            _restart?.Dispose(); // the skeleton changes now; its next Resume restarts the fill
            _restart = null;
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
        try
        {
            while (true)
            {
                await FillOnceAsync(token).ConfigureAwait(false);
                if (!token.IsCancellationRequested)
                {
                    _health.Succeeded(); // a pass that ended of itself: written, or nothing to write
                }
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
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug or a failing store, not a peer's doing (peers' failures end in FetchAsync): the fill's supervisor
            // records it (logged once, shown in the health) and restarts it from the chain store's head after a backoff,
            // unless the skeleton suspends it first. The skeleton loop is not disturbed: it sees a fill that stopped.
            var delay = _health.Failed(e);
            lock (_lock)
            {
                _restart?.Dispose();
                _restart = _suspended ? null : time.CreateTimer(_ => RestartAfterFailure(), null, delay, Timeout.InfiniteTimeSpan);
            }
            _health.RestartArmed();
        }
    }

    /// <summary>The backoff after a failed fill is over: fill again, unless the skeleton suspended it meanwhile.</summary>
    private void RestartAfterFailure()
    {
        lock (_lock)
        {
            _restart?.Dispose();
            _restart = null;
            if (_suspended)
            {
                return;
            }
        }
        _health.Restarting();
        Resume();
    }

    private async Task FillOnceAsync(CancellationToken token)
    {
        try
        {
            if (skeleton.LoadProgress() is not { Subchains: [var subchain] } progress || skeleton.GetHeader(subchain.Head) is not { } target)
            {
                return;
            }
            if (_invalid.TryGet(target.Hash, out _) || _invalid.IsTooDeep(target.Hash))
            {
                return; // refused before: not chased again until a new forced head changes the skeleton
            }
            var head = chain.HeadHeader;
            if (FillState.ForkPoint(subchain, head.Number, chain.GetCanonicalHash, skeleton.GetHeader) is not { } fork
                || chain.GetCanonicalHeader(fork) is not { } start)
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
            if (start.Number < head.Number)
            {
                // Neither the finalized block nor a frozen one leaves the canonical chain (docs/decisions.md, Frozen blocks).
                if (chain.ImmutableHeader?.Number is { } immutable && immutable > start.Number)
                {
                    _invalid.AddTooDeep(target.Hash);
                    Log.TooDeepReorg(logger, target.Number, target.Hash, start.Number, immutable);
                    AfterRefusal?.Invoke(target, FillRefusal.TooDeepReorg);
                    return;
                }
                Log.Reorg(logger, head.Number, head.Hash, start.Number, target.Number, target.Hash);
            }
            await FillFromAsync(new FillState(start, target), FreezeThrough(progress.Finalized, target.Number), token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Runs <paramref name="fill"/>'s steps in their order (<see cref="FillState"/>) until the target is written, a block
    /// is bad, the finalized block leaves the branch, the skeleton stops hanging together, no peer is left to ask, or
    /// the fill is cancelled; the next resume carries on from the canonical head. The I/O is here, the decisions there.
    /// </summary>
    private async Task FillFromAsync(FillState fill, ulong freezeThrough, CancellationToken token)
    {
        var requests = new List<Task<FetchResult>>(MaxRunsAhead);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        try
        {
            while (!token.IsCancellationRequested)
            {
                // 1. Assign runs to the peers' free request slots, fastest first.
                var assigned = fill.Assign(peers.FreeSlotsFastestFirst(), peers.MarkBusy, skeleton.GetHeader);
                if (assigned.SkeletonGapAt is { } gap)
                {
                    Log.SkeletonGap(logger, gap);
                }
                foreach (var (peer, run) in assigned.Runs)
                {
                    requests.Add(FetchAsync(peer, run, cancel.Token));
                }
                if (fill.InFlight.Count == 0)
                {
                    return; // everything written, or nobody to ask now: the next resume tries again
                }

                // 2. Receive the first answer back; its peer is judged by the peer set, its run by the fill.
                var done = await Task.WhenAny(requests).ConfigureAwait(false);
                requests.Remove(done);
                var answer = await done.ConfigureAwait(false);
                Judge(answer);
                fill.Receive(answer);

                // 3. Write, in order, every fetched run that now hangs off the last block written.
                while (fill.TakeNextToWrite(fill.BlocksPerWrite) is { } blocks)
                {
                    var (valid, error) = Validate(blocks, fill.Parent);
                    if (valid.Count > 0)
                    {
                        if (chain.TryWriteCanonical(valid, freezeThrough) == CanonicalWrite.BelowFinalized)
                        {
                            // forkchoiceUpdated finalized a block this branch leaves since the fill started (the
                            // too-deep check in FillOnceAsync saw the old one): stop; the next resume starts from what
                            // is canonical then, and a head still below the finalized block is refused there.
                            Log.FinalizedMoved(logger, valid[0].Header.Number, fill.Target.Number, fill.Target.Hash);
                            return;
                        }
                        _health.Succeeded();
                        fill.Written(valid[^1].Header);
                        lock (_lock)
                        {
                            _lastFilled = fill.Parent;
                        }
                        Log.Filled(logger, valid[0].Header.Number, fill.Parent.Number, fill.Target.Number - fill.Parent.Number);
                        AfterRun?.Invoke(fill.Parent);
                    }
                    if (error is not null)
                    {
                        RefuseBadBlock(blocks[valid.Count].Header, fill.Parent, fill.Target, error);
                        return;
                    }
                }
            }
        }
        finally
        {
            await Threading.CancelAsync(cancel).ConfigureAwait(false);
            await Task.WhenAll(requests).ConfigureAwait(false); // each fetch frees its peer; none throws
        }
    }

    /// <summary>
    /// The highest block a fill writes to the frozen files (docs/decisions.md, Frozen blocks): the finalized number the
    /// beacon node announced, which the skeleton recorded, or else <see cref="ImmutabilityThreshold"/> below the target;
    /// never above the target.
    /// </summary>
    internal static ulong FreezeThrough(ulong? finalized, ulong target) =>
        Math.Min(target, finalized ?? (target > ImmutabilityThreshold ? target - ImmutabilityThreshold : 0));

    /// <summary>The peer's part of an answer: its rate when it served, its drop when it failed (docs/quality.md).</summary>
    private void Judge(FetchResult answer)
    {
        switch (answer.Outcome)
        {
            case FetchOutcome.Served:
                peers.Update(answer.Peer, answer.Blocks!.Count, answer.Elapsed, RateKind.Bodies);
                break;
            case FetchOutcome.Failed:
                if (peers.Drop(answer.Peer, answer.Failure!, answer.Cause))
                {
                    Log.PeerDropped(logger, answer.Peer.Id, answer.Failure!);
                }
                break;
            default:
                break;
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

    /// <summary>One request for a run's bodies, checked against the headers here, beside the writer; it never throws.</summary>
    private async Task<FetchResult> FetchAsync(ISyncPeer peer, List<BlockHeader> run, CancellationToken token)
    {
        // Leave the writer before calling the peer: an in-process peer builds its whole answer before its first await.
        await Threading.YieldAsync().ConfigureAwait(false);
        var started = time.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(peers.TimeoutFor(peer), time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
            // Skeleton headers read from the store are hashed when first asked: the whole run four at a time
            // (Keccak256.HashAll), as the skeleton hashes its answers.
            BlockHeader.HashAll(run);
            var hashes = new Hash256[run.Count];
            for (var i = 0; i < hashes.Length; i++)
            {
                hashes[i] = run[i].Hash;
            }
            var bodies = await peer.GetBodiesAsync(hashes, linked.Token).ConfigureAwait(false);
            var elapsed = time.GetElapsedTime(started);
            if (bodies.Count == 0 || bodies[0] is null)
            {
                return FetchResult.Empty(peer, run, elapsed);
            }
            return Match(run, bodies) is { } blocks
                ? FetchResult.Served(peer, run, blocks, elapsed)
                : FetchResult.Failed(peer, run, "served bodies that do not match their headers", DropCause.Misbehaved);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return FetchResult.Cancelled(peer, run);
        }
        catch (OperationCanceledException)
        {
            return FetchResult.Failed(peer, run, "no bodies within the timeout", DropCause.Unresponsive);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever a peer throws is its failure, not ours: untrusted input (docs/quality.md).
            return FetchResult.Failed(peer, run, e.Message, DropCause.Unresponsive);
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

        [LoggerMessage(406, LogLevel.Warning, "Backfill stopped, the finalized block is not on the branch being filled number={Number} target={Target} targethash={TargetHash}")]
        public static partial void FinalizedMoved(ILogger logger, ulong number, ulong target, Hash256 targetHash);

        [LoggerMessage(405, LogLevel.Warning, "Dropping sync peer id={Peer} reason={Reason}")]
        public static partial void PeerDropped(ILogger logger, string peer, string reason);
    }
}

/// <summary>Why a fill refused the skeleton head.</summary>
internal enum FillRefusal
{
    /// <summary>A block on the way failed validation.</summary>
    InvalidBlock,

    /// <summary>Filling it would rewind the canonical chain below the finalized block.</summary>
    TooDeepReorg,
}
