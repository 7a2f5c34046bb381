namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// One sync cycle's own state (docs/sync.md, A cycle), from its start on a head to its end: the scratch window with
/// its tasks and the peers asked, whether it started linked, when it last wrote headers, and its cancellation.
/// A fresh one per cycle, as geth's sync() starts each cycle with a fresh scratch space and cancels the previous
/// cycle's requests: nothing of a cycle outlives it but what it committed to the store. Owned by the loop alone.
/// </summary>
internal sealed class SkeletonCycle(int number, ulong scratchHead, bool linked, long startedAt, CancellationToken token)
{
    /// <summary>
    /// Tags this cycle's requests, so a delivery of an earlier cycle is told apart (<see cref="Delivery.Cycle"/>):
    /// geth makes fresh response channels per cycle for the same reason, after stale answers crossed cycles.
    /// </summary>
    public int Number { get; } = number;

    public ScratchWindow Window { get; } = new(scratchHead);

    /// <summary>
    /// The newest subchain hung off the local chain when the cycle started: nothing is fetched, the backfiller fills,
    /// and a head that moves the link point off the local chain ends the cycle (<see cref="CycleEnd.Trimmed"/>).
    /// </summary>
    public bool Linked { get; } = linked;

    /// <summary>When the cycle started or last wrote headers: what the stall watchdog measures from.</summary>
    public long ProgressAt { get; set; } = startedAt;

    /// <summary>Cancels the cycle's requests when it ends; cancelled too when the sync stops.</summary>
    public CancellationToken Token { get; } = token;
}
