using EngineSkeleton.Blocks;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Validation;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Backfill;

/// <summary>
/// Fills bodies forward from the local head up the linked skeleton (brief §4, Backfill): takes the next run of
/// skeleton headers, asks the fastest idle peer for their bodies, checks each body against its header and each
/// header against its parent (the one validator), writes the run in one chain-store transaction and moves the
/// canonical head. A peer whose body does not match is dropped and the run asked of another.
/// </summary>
public sealed partial class Backfiller(
    ChainStore chain,
    SkeletonStore skeleton,
    PeerSet peers,
    BlockValidator validator,
    TimeProvider time,
    ILogger<Backfiller> logger) : IBackfiller
{
    /// <summary>Bodies per request and per chain-store transaction: geth asks 128 bodies at a time.</summary>
    public const int BatchSize = 128;

    private readonly Lock _lock = new();
    private CancellationTokenSource? _cancel;
    private Task? _run;
    private BlockHeader? _lastFilled;
    private bool _again;

    /// <summary>Test hook: called after each written run with the new canonical head.</summary>
    internal Action<BlockHeader>? AfterRun { get; set; }

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
            while (!token.IsCancellationRequested)
            {
                if (skeleton.LoadProgress() is not { Subchains: [var subchain] })
                {
                    return;
                }
                var head = chain.HeadHeader;
                if (head.Number >= subchain.Head)
                {
                    return;
                }
                var headers = NextRun(head, Math.Min(subchain.Head, head.Number + BatchSize));
                if (headers is null)
                {
                    return;
                }
                var blocks = await FetchAsync(headers, token).ConfigureAwait(false);
                if (blocks is null)
                {
                    return; // no peer could serve them now; the next resume tries again
                }
                var parent = head;
                foreach (var block in blocks)
                {
                    var result = validator.ValidateWithCheckedBody(block, parent); // bodies were checked in Match
                    if (!result.IsValid)
                    {
                        Log.InvalidBlock(logger, block.Header.Number, block.Header.Hash, result.Error!);
                        return;
                    }
                    parent = block.Header;
                }
                chain.WriteBlocks(blocks);
                chain.SetForkchoice(parent, null, null);
                lock (_lock)
                {
                    _lastFilled = parent;
                }
                Log.Filled(logger, blocks[0].Header.Number, parent.Number, subchain.Head - parent.Number);
                AfterRun?.Invoke(parent);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Skeleton headers head+1..last, which must hang off the local head; null if the skeleton does not.</summary>
    private List<BlockHeader>? NextRun(BlockHeader head, ulong last)
    {
        var headers = new List<BlockHeader>((int)(last - head.Number));
        var parent = head;
        for (var n = head.Number + 1; n <= last; n++)
        {
            var header = skeleton.GetHeader(n);
            if (header is null || header.ParentHash != parent.Hash)
            {
                Log.SkeletonGap(logger, n);
                return headers.Count == 0 ? null : headers;
            }
            headers.Add(header);
            parent = header;
        }
        return headers;
    }

    /// <summary>The bodies of these headers from the fastest idle peer whose answer matches every header's roots.</summary>
    private async Task<List<Block>?> FetchAsync(List<BlockHeader> headers, CancellationToken token)
    {
        foreach (var peer in peers.IdlePeersFastestFirst())
        {
            if (!peers.MarkBusy(peer))
            {
                continue;
            }
            var started = time.GetTimestamp();
            try
            {
                using var timeout = new CancellationTokenSource(peers.TimeoutFor(peer), time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
                var bodies = await peer.GetBodiesAsync([.. headers.Select(h => h.Hash)], linked.Token).ConfigureAwait(false);
                if (Match(headers, bodies) is { } blocks)
                {
                    peers.Update(peer, blocks.Count, time.GetElapsedTime(started), RateKind.Bodies);
                    return blocks;
                }
                peers.Drop(peer, "served bodies that do not match their headers");
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                peers.Drop(peer, "no bodies within the timeout");
            }
            catch (PeerException e)
            {
                peers.Drop(peer, e.Message);
            }
            finally
            {
                peers.MarkIdle(peer);
            }
        }
        return null;
    }

    /// <summary>Pairs headers with bodies; a missing body or one that breaks its header's roots spoils the answer.</summary>
    private List<Block>? Match(List<BlockHeader> headers, IReadOnlyList<BlockBody?> bodies)
    {
        if (bodies.Count == 0)
        {
            return null;
        }
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
        return blocks.Count == 0 ? null : blocks;
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Information, "Imported blocks from={From} to={To} left={Left}")]
        public static partial void Filled(ILogger logger, ulong from, ulong to, ulong left);

        [LoggerMessage(401, LogLevel.Error, "Backfilled block is invalid number={Number} hash={Hash} error={Error}")]
        public static partial void InvalidBlock(ILogger logger, ulong number, EngineSkeleton.Primitives.Hash256 hash, string error);

        [LoggerMessage(402, LogLevel.Debug, "Skeleton does not continue the local chain at number={Number}")]
        public static partial void SkeletonGap(ILogger logger, ulong number);
    }
}
