using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Backfill;

/// <summary>How one body request for a run ended, split by blame as reth's downloaders split their errors.</summary>
internal enum FetchOutcome
{
    /// <summary>Bodies for the run's first headers, each matching its header's roots; perhaps fewer than asked.</summary>
    Served,

    /// <summary>No body at all: what an honest peer without the range answers. Not its fault, but not asked again this fill.</summary>
    Empty,

    /// <summary>Bodies that break their roots, a timeout or an error: the peer's fault, it is dropped.</summary>
    Failed,

    /// <summary>The fill was cancelled while the request was out: nobody's fault.</summary>
    Cancelled,
}

/// <summary>
/// What one body request came back with. <see cref="Blocks"/> is set when <see cref="FetchOutcome.Served"/> (at least
/// one block, in the run's order); <see cref="Failure"/> when <see cref="FetchOutcome.Failed"/>, as the reason the peer
/// is dropped.
/// </summary>
internal sealed record FetchResult(ISyncPeer Peer, List<BlockHeader> Run, FetchOutcome Outcome, List<Block>? Blocks, TimeSpan Elapsed, string? Failure)
{
    /// <summary>For <see cref="FetchOutcome.Failed"/>: whether the peer lied or did not answer (its re-admission waits differ).</summary>
    public DropCause Cause { get; init; } = DropCause.Misbehaved;

    public static FetchResult Served(ISyncPeer peer, List<BlockHeader> run, List<Block> blocks, TimeSpan elapsed) =>
        new(peer, run, FetchOutcome.Served, blocks, elapsed, null);

    public static FetchResult Empty(ISyncPeer peer, List<BlockHeader> run, TimeSpan elapsed) =>
        new(peer, run, FetchOutcome.Empty, null, elapsed, null);

    public static FetchResult Failed(ISyncPeer peer, List<BlockHeader> run, string failure, DropCause cause) =>
        new(peer, run, FetchOutcome.Failed, null, default, failure) { Cause = cause };

    public static FetchResult Cancelled(ISyncPeer peer, List<BlockHeader> run) =>
        new(peer, run, FetchOutcome.Cancelled, null, default, null);
}
