using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Server.Engine;

/// <summary>
/// Hands a head to the sync and reads its reply without making the beacon node wait for it (the answer is SYNCING
/// whatever the reply): a refused or failed hand-over is logged, never dropped (issue 14). The sync loop answers in
/// microseconds when it is between events, but may be suspending the backfiller; the handler's lock is not held
/// that long.
/// </summary>
internal static partial class SyncHandOver
{
    public static void Send(IBeaconSync sync, BlockHeader head, Hash256 finalized, bool force, ILogger logger)
    {
        Task<SyncRequestOutcome> reply;
        try
        {
            reply = sync.SyncAsync(head, finalized, force);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Failed(logger, head.Number, head.Hash, force, e);
            return;
        }
        if (reply.IsCompletedSuccessfully)
        {
            Read(reply.Result, head, force, logger);
            return;
        }
        _ = reply.ContinueWith(
            static (task, state) =>
            {
                var (head, force, logger) = ((BlockHeader, bool, ILogger))state!;
                if (task.IsCompletedSuccessfully)
                {
                    Read(task.Result, head, force, logger);
                }
                else if (task.Exception is { } e)
                {
                    Log.Failed(logger, head.Number, head.Hash, force, e.InnerException ?? e);
                }
            },
            (head, force, logger),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static void Read(SyncRequestOutcome outcome, BlockHeader head, bool force, ILogger logger)
    {
        switch (outcome)
        {
            case SyncRequestOutcome.Accepted:
                break;
            case SyncRequestOutcome.RefusedNotExtending:
                // newPayload's heads only extend the sync (geth ignores the others the same way); the next forkchoice
                // moves it. Routine during a reorg, hence Debug.
                Log.NotExtending(logger, head.Number, head.Hash, force);
                break;
            case SyncRequestOutcome.RefusedFaulted:
                Log.Faulted(logger, head.Number, head.Hash);
                break;
            default:
                Log.Unexpected(logger, head.Number, head.Hash, outcome);
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(210, LogLevel.Debug, "Sync did not take the head: it does not extend the one being synced number={Number} hash={Hash} forced={Forced}")]
        public static partial void NotExtending(ILogger logger, ulong number, Hash256 hash, bool forced);

        [LoggerMessage(211, LogLevel.Information, "Sync did not take the head: it is restarting after a failure (see skeleton_status health) number={Number} hash={Hash}")]
        public static partial void Faulted(ILogger logger, ulong number, Hash256 hash);

        [LoggerMessage(212, LogLevel.Error, "Handing a head to the sync failed number={Number} hash={Hash} forced={Forced}")]
        public static partial void Failed(ILogger logger, ulong number, Hash256 hash, bool forced, Exception exception);

        [LoggerMessage(213, LogLevel.Warning, "Sync answered a head with an unexpected outcome number={Number} hash={Hash} outcome={Outcome}")]
        public static partial void Unexpected(ILogger logger, ulong number, Hash256 hash, SyncRequestOutcome outcome);
    }
}
