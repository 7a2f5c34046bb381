using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Sync.Backfill;

/// <summary>
/// What the skeleton asks of the body backfiller (go-ethereum's backfiller interface): stop before the skeleton
/// changes under it, saying how far it got, and start again once the skeleton is linked.
/// </summary>
public interface IBackfiller
{
    /// <summary>Stops filling and returns the last header filled (written to the chain store), or null if none.</summary>
    Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken);

    /// <summary>Starts (or continues) filling from the local head up the linked skeleton. Never blocks.</summary>
    void Resume();

    /// <summary>Whether filling runs or waits to restart after a failure; a backfiller that cannot fail is always healthy.</summary>
    SyncHealth Health => SyncHealth.Healthy;
}
