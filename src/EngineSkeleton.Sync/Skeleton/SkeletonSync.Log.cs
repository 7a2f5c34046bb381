using EngineSkeleton.Core.Primitives;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>What an operator reads: geth's skeleton messages and fields, with stable event ids (docs/sync.md, Status).</summary>
public sealed partial class SkeletonSync
{
    /// <summary>geth's "Syncing beacon headers" line, every <see cref="DownloadStats.LogInterval"/> and once nothing is left.</summary>
    private void LogProgress(bool linked)
    {
        var left = linked || _progress is not { Subchains: [var newest, ..] } ? 0 : newest.Tail - 1;
        if (_stats.TryLog(left, out var eta))
        {
            Log.Syncing(_logger, _stats.Pulled, left, _stats.Rate, eta);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Debug, "Starting reverse header sync cycle head={Head} hash={Hash} cont={Cont} linked={Linked}")]
        public static partial void CycleStarting(ILogger logger, ulong head, Hash256 hash, ulong cont, bool linked);

        [LoggerMessage(301, LogLevel.Debug, "Sync cycle ended reason={Reason}")]
        public static partial void CycleEnded(ILogger logger, CycleEnd reason);

        [LoggerMessage(302, LogLevel.Information, "Restarting sync cycle reason={Reason} head={Head} hash={Hash}")]
        public static partial void Restarting(ILogger logger, NewHeadOutcome reason, ulong head, Hash256 hash);

        [LoggerMessage(303, LogLevel.Warning, "Local chain has been trimmed tailnumber={Tail} tailhash={Next}")]
        public static partial void LocalChainTrimmed(ILogger logger, ulong tail, Hash256 next);

        [LoggerMessage(304, LogLevel.Warning, "Invalid skeleton headers number={Number} want={Want} have={Have}")]
        public static partial void InvalidSkeletonHeaders(ILogger logger, ulong number, Hash256 want, Hash256 have);

        [LoggerMessage(305, LogLevel.Warning, "Dropping sync peer id={Peer} reason={Reason}")]
        public static partial void PeerDropped(ILogger logger, string peer, string reason);

        [LoggerMessage(306, LogLevel.Information, "Syncing beacon headers downloaded={Downloaded} left={Left} rate={Rate:F0}/s eta={Eta}")]
        public static partial void Syncing(ILogger logger, ulong downloaded, ulong left, double rate, TimeSpan eta);

        [LoggerMessage(307, LogLevel.Error, "Cleaning spurious beacon sync leftovers")]
        public static partial void SpuriousLeftovers(ILogger logger);

        [LoggerMessage(308, LogLevel.Error, "Filled header is discontinuous with the skeleton number={Number} hash={Hash}")]
        public static partial void DiscontinuousFill(ILogger logger, ulong number, Hash256 hash);

        [LoggerMessage(309, LogLevel.Debug, "Peer answered a header task empty, resting id={Peer} origin={Origin} strikes={Strikes} rest={Rest}")]
        public static partial void PeerResting(ILogger logger, string peer, ulong origin, int strikes, TimeSpan rest);

        [LoggerMessage(311, LogLevel.Debug, "Backfiller failed while suspended, carrying on error={Error}")]
        public static partial void SuspendFailed(ILogger logger, string error);

        [LoggerMessage(312, LogLevel.Information, "Re-admitting configured sync peer after its backoff id={Peer}")]
        public static partial void PeerReadmitted(ILogger logger, string peer);

        [LoggerMessage(313, LogLevel.Error, "Announced head is on another chain: it does not descend from this node's anchor, the beacon node follows another network or the datadir belongs to one head={Head} hash={Hash} anchor={Anchor} ours={Ours} theirs={Theirs}")]
        public static partial void AnotherNetwork(ILogger logger, ulong head, Hash256? hash, ulong anchor, Hash256? ours, Hash256 theirs);

        [LoggerMessage(310, LogLevel.Warning, "Beacon header sync stalled, retrying elapsed={Elapsed} tail={Tail} peers={Peers} inflight={InFlight} hung={Hung} resting={Resting}")]
        public static partial void Stalled(ILogger logger, TimeSpan elapsed, ulong tail, int peers, int inFlight, int hung, int resting);
    }
}
