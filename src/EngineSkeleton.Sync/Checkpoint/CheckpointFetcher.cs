using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Sync.Peers;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Checkpoint;

/// <summary>
/// Fetches the checkpoint block a fresh datadir starts from: the header by hash from each peer in turn (fastest
/// first), which must hash to the checkpoint's hash and carry its number, then its body, which must match the
/// header's roots. Rounds repeat until a peer serves it or the bound passes (peers may still be starting).
/// </summary>
public sealed partial class CheckpointFetcher(PeerSet peers, BlockValidator validator, TimeProvider time, ILogger<CheckpointFetcher> logger)
{
    /// <summary>Between rounds of asking every peer: long enough not to hammer a node that is starting up.</summary>
    public static readonly TimeSpan RoundInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The checkpoint block, verified; or, in <see cref="CheckpointResult.Error"/>, why the checkpoint itself is
    /// wrong (another number, pre-merge) or that no peer served it within <paramref name="bound"/>.
    /// </summary>
    public async Task<CheckpointResult> FetchAsync(SyncCheckpoint checkpoint, TimeSpan bound, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        using var deadline = new CancellationTokenSource(bound, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var rounds = 0;
        try
        {
            while (true)
            {
                rounds++;
                foreach (var peer in peers.IdlePeersFastestFirst())
                {
                    var answer = await AskAsync(peer, checkpoint, linked.Token).ConfigureAwait(false);
                    if (answer is not null)
                    {
                        return answer;
                    }
                }
                Log.NotYet(logger, checkpoint.Number, checkpoint.Hash, peers.Count);
                await Task.Delay(RoundInterval, time, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return CheckpointResult.Failed(
                $"no peer served checkpoint block {checkpoint} within {bound.TotalSeconds:F0} s ({peers.Count} peer(s), {rounds} round(s))");
        }
    }

    /// <summary>One peer's answer: the block, a verdict on the checkpoint itself, or null (ask the next peer).</summary>
    private async Task<CheckpointResult?> AskAsync(ISyncPeer peer, SyncCheckpoint checkpoint, CancellationToken token)
    {
        using var timeout = new CancellationTokenSource(peers.TimeoutFor(peer), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        try
        {
            var header = await peer.GetHeaderByHashAsync(checkpoint.Hash, linked.Token).ConfigureAwait(false);
            if (header is null || header.Hash != checkpoint.Hash)
            {
                return null; // not held, or a header that is not the one asked for: untrusted, try another peer
            }
            // The hash is the operator's trust root: a header hashing to it is that block, so its number and era are facts.
            if (header.Number != checkpoint.Number)
            {
                return CheckpointResult.Failed($"--sync.checkpoint block {checkpoint.Hash} is #{header.Number}, not #{checkpoint.Number}");
            }
            if (!header.Difficulty.IsZero)
            {
                return CheckpointResult.Failed($"--sync.checkpoint block {checkpoint} is a proof-of-work block; give a post-merge one");
            }
            var bodies = await peer.GetBodiesAsync([checkpoint.Hash], linked.Token).ConfigureAwait(false);
            if (bodies is not [{ } body])
            {
                return null;
            }
            var block = new Block(header, body);
            if (!validator.ValidateBody(block, allowOmmers: false).IsValid)
            {
                peers.Drop(peer, "served a checkpoint body that does not match its header");
                return null;
            }
            Log.Fetched(logger, checkpoint.Number, checkpoint.Hash, peer.Id);
            return CheckpointResult.Fetched(block);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !token.IsCancellationRequested)
        {
            return null;
        }
        catch (PeerException e)
        {
            Log.PeerFailed(logger, peer.Id, e.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(600, LogLevel.Information, "Fetched checkpoint block number={Number} hash={Hash} peer={Peer}")]
        public static partial void Fetched(ILogger logger, ulong number, EngineSkeleton.Core.Primitives.Hash256 hash, string peer);

        [LoggerMessage(601, LogLevel.Warning, "Waiting for a peer to serve the checkpoint block number={Number} hash={Hash} peers={Peers}")]
        public static partial void NotYet(ILogger logger, ulong number, EngineSkeleton.Core.Primitives.Hash256 hash, int peers);

        [LoggerMessage(602, LogLevel.Debug, "Checkpoint request failed peer={Peer} error={Error}")]
        public static partial void PeerFailed(ILogger logger, string peer, string error);
    }
}

/// <summary>The checkpoint block, or why there is none.</summary>
public sealed record CheckpointResult(Block? Block, string? Error)
{
    public static CheckpointResult Fetched(Block block) => new(block, null);

    public static CheckpointResult Failed(string error) => new(null, error);
}
