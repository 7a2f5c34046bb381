using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>Everything the skeleton loop reacts to arrives as one of these, on one channel, read by one task.</summary>
internal abstract record SkeletonEvent;

/// <summary>A head from the Engine API; the loop answers on <see cref="Reply"/> (geth's headUpdate with errc).</summary>
internal sealed record HeadEvent(BlockHeader Header, ulong? Finalized, bool Force, TaskCompletionSource<SyncRequestOutcome> Reply) : SkeletonEvent;

/// <summary>A peer joined: idle peers may take tasks.</summary>
internal sealed record PeersChanged : SkeletonEvent
{
    public static readonly PeersChanged Instance = new();
}

/// <summary>
/// A header request finished: the headers with <see cref="Verdict"/>, their <see cref="ResponseCheck"/> made in the
/// request's task, or why not. <see cref="Cycle"/> tells stale deliveries apart.
/// </summary>
internal sealed record Delivery(int Cycle, HeaderRange Range, ISyncPeer Peer, IReadOnlyList<BlockHeader>? Headers, ResponseVerdict Verdict, string? Failure, TimeSpan Elapsed) : SkeletonEvent;

/// <summary>A peer's rest after an empty answer is over (<see cref="PeerBackoff"/>): it may take a task again.</summary>
internal sealed record RestOver : SkeletonEvent
{
    public static readonly RestOver Instance = new();
}

/// <summary>The stall watchdog's periodic look at whether the sync still moves.</summary>
internal sealed record WatchdogTick : SkeletonEvent
{
    public static readonly WatchdogTick Instance = new();
}

/// <summary>The supervisor's backoff after a failure is over: the loop starts again from the stored progress.</summary>
internal sealed record RestartDue : SkeletonEvent
{
    public static readonly RestartDue Instance = new();
}

/// <summary>Stop for good.</summary>
internal sealed record Terminate(TaskCompletionSource Done) : SkeletonEvent;

/// <summary>Why a sync cycle ended (geth's errSync* values), and where the next one starts.</summary>
internal enum CycleEnd
{
    /// <summary>The newest subchain reached the local chain: restart so the backfiller is told.</summary>
    Linked,

    /// <summary>Subchains merged: continue from the merged tail.</summary>
    Merged,

    /// <summary>A forced head did not extend the subchain: restart on that head.</summary>
    Reorged,

    /// <summary>The local chain no longer holds the link point: download again.</summary>
    Trimmed,

    /// <summary>The sync is stopping (DisposeAsync): no further cycle, the backfiller suspended (geth's errTerminated).</summary>
    Terminated,
}
