using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;

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

    /// <summary>
    /// Whether the sync's machinery runs: the skeleton loop and the backfiller, each supervised and restarted after a
    /// failure (docs/reliability.md). The host's readiness check reads <see cref="SyncHealth.IsReady"/>.
    /// </summary>
    SyncHealth Health();
}

/// <summary>How a head was taken: accepted into the cycle, or refused (non-forced heads that do not extend).</summary>
public enum SyncRequestOutcome
{
    Accepted,

    /// <summary>A non-forced head that does not extend the current one: geth's errSyncReorged/Gapped/Forked.</summary>
    RefusedNotExtending,

    /// <summary>
    /// A non-forced head while the sync waits to restart after a failure (<see cref="SyncHealth"/>): only a forced head
    /// is kept for the restart, as before the first cycle.
    /// </summary>
    RefusedFaulted,
}

/// <summary>
/// What the sync is doing, as skeleton_status reports it (docs/sync.md, Status). The skeleton loop publishes
/// <see cref="Idle"/>, <see cref="Syncing"/>, <see cref="Linked"/> and <see cref="Terminated"/>;
/// <see cref="WaitingForPeers"/> is <see cref="BeaconSync"/>'s reading of the others, since only it knows whether a
/// head was announced. Part of the facade's contract, so the server reads the status without reaching into the
/// skeleton (docs/architecture.md); the names on the wire are the server's, kept in one place there.
/// </summary>
public enum SyncState
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

/// <summary>A contiguous run of downloaded headers, newest first in the progress (geth's subchain).</summary>
public sealed record SubchainStatus(ulong Head, ulong Tail, Hash256 Next);

/// <summary>
/// The syncer as skeleton_status and eth_syncing report it. <c>StartingBlock</c> is the canonical head's
/// number when the current sync began (null if none began, or the local head was not given). <c>Health</c> is
/// <see cref="IBeaconSync.Health"/> at the same moment. <c>AnotherChain</c> says, when it is so, that the announced
/// head does not descend from the node's anchor (another network), naming both hashes.
/// </summary>
public sealed record BeaconSyncStatus(
    Hash256? AnnouncedHead,
    ulong? AnnouncedNumber,
    ulong? Finalized,
    IReadOnlyList<SubchainStatus> Subchains,
    bool Linked,
    SyncState State,
    ulong Downloaded = 0,
    double HeadersPerSecond = 0,
    IReadOnlyList<PeerStatus>? Peers = null,
    ulong? StartingBlock = null,
    SyncHealth? Health = null,
    string? AnotherChain = null);
