using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// What the skeleton sync is doing, as skeleton_status reports it (docs/sync.md, Status). The loop publishes
/// <see cref="Idle"/>, <see cref="Syncing"/>, <see cref="Linked"/> and <see cref="Terminated"/>;
/// <see cref="WaitingForPeers"/> is <see cref="Beacon.BeaconSync"/>'s reading of the others, since only it knows
/// whether a head was announced. The names on the wire are the server's (skeleton_status), kept in one place there.
/// </summary>
public enum SkeletonState
{
    /// <summary>No forced head yet: as in geth, only a forkchoiceUpdated starts the first cycle.</summary>
    Idle,

    /// <summary>A cycle is fetching headers below the newest subchain's tail.</summary>
    Syncing,

    /// <summary>The newest subchain hangs off the local chain: nothing left to fetch, the backfiller fills bodies.</summary>
    Linked,

    /// <summary>The loop has stopped for good.</summary>
    Terminated,

    /// <summary>
    /// A head was announced, no peer is connected and the skeleton is not linked: nothing can move until a peer
    /// joins. Never published by the loop, which does not see announced heads whose header could not be had.
    /// </summary>
    WaitingForPeers,
}

/// <summary>The skeleton as skeleton_status reports it; the loop replaces it (never mutates it) after every event.</summary>
public sealed record SkeletonSnapshot(SkeletonState State, SkeletonProgress? Progress, bool Linked, ulong Downloaded, double HeadersPerSecond, IReadOnlyList<PeerStatus> Peers)
{
    /// <summary>Peers resting after empty answers, with when they may be asked again (<see cref="PeerBackoff"/>).</summary>
    public IReadOnlyList<PeerRest> Resting { get; init; } = [];

    public static readonly SkeletonSnapshot Idle = new(SkeletonState.Idle, null, false, 0, 0, []);
}
