using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>The skeleton as skeleton_status reports it; the loop replaces it (never mutates it) after every event.</summary>
internal sealed record SkeletonSnapshot(SyncState State, SkeletonProgress? Progress, bool Linked, ulong Downloaded, double HeadersPerSecond, IReadOnlyList<PeerStatus> Peers)
{
    /// <summary>Peers resting after empty answers, with when they may be asked again (<see cref="PeerBackoff"/>).</summary>
    public IReadOnlyList<PeerRest> Resting { get; init; } = [];

    /// <summary>Set when the announced head's chain does not reach our anchor (another network): the operator's line.</summary>
    public string? AnotherChain { get; init; }

    public static readonly SkeletonSnapshot Idle = new(SyncState.Idle, null, false, 0, 0, []);
}
