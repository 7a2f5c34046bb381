using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// What the Engine API hands heads it does not have to. Forced heads come from forkchoiceUpdated and restart the
/// sync cycle on the new head; non-forced heads come from newPayload and may only extend the current one
/// (go-ethereum's beacon sync semantics, docs/sync.md). The Engine API answers SYNCING whatever these return.
/// </summary>
public interface IBeaconSync
{
    /// <summary>Hands over a head whose header is known; completes when the syncer has taken or refused it.</summary>
    Task<SyncRequestOutcome> SyncAsync(BlockHeader head, Hash256 finalized, bool force);

    /// <summary>The header with this hash from peers, verified against the hash, within <paramref name="bound"/>; null if none had it.</summary>
    Task<BlockHeader?> FetchHeaderAsync(Hash256 hash, TimeSpan bound);

    /// <summary>A forced head whose header could not be had yet: remembered so the operator sees it.</summary>
    void Announce(Hash256 head, Hash256 finalized);

    /// <summary>What skeleton_status shows.</summary>
    BeaconSyncStatus Status();
}

/// <summary>How a head was taken: accepted into the cycle, or refused (non-forced heads that do not extend).</summary>
public enum SyncRequestOutcome
{
    Accepted,

    /// <summary>A non-forced head that does not extend the current one: geth's errSyncReorged/Gapped/Forked.</summary>
    RefusedNotExtending,
}

/// <summary>A contiguous run of downloaded headers, newest first in the progress (geth's subchain).</summary>
public sealed record SubchainStatus(ulong Head, ulong Tail, Hash256 Next);

/// <summary>
/// The syncer as skeleton_status and eth_syncing report it. <c>StartingBlock</c> is the canonical head's
/// number when the current sync began (null if none began, or the local head was not given).
/// </summary>
public sealed record BeaconSyncStatus(
    Hash256? AnnouncedHead,
    ulong? AnnouncedNumber,
    ulong? Finalized,
    IReadOnlyList<SubchainStatus> Subchains,
    bool Linked,
    SkeletonState State,
    ulong Downloaded = 0,
    double HeadersPerSecond = 0,
    IReadOnlyList<PeerStatus>? Peers = null,
    ulong? StartingBlock = null);
