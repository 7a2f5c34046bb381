using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Sync.Peers;

/// <summary>
/// What the sync engine asks of a peer, whatever its transport (JSON-RPC, devp2p, in-process; docs/peers.md). Every
/// answer is untrusted input: the caller validates it and drops the peer through the peer set.
/// Implementations throw <see cref="PeerException"/> for transport or protocol failures and honour cancellation.
/// </summary>
public interface ISyncPeer
{
    /// <summary>Stable id for logs and status (e.g. the RPC URL, the enode id).</summary>
    string Id { get; }

    /// <summary>Headers <paramref name="origin"/>, origin−1, … (at most <paramref name="count"/>), newest first. May return fewer.</summary>
    Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken);

    /// <summary>The header with this hash, or null if the peer does not have it.</summary>
    Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken);

    /// <summary>Bodies for these block hashes, in order; null where the peer does not have one. May return fewer.</summary>
    Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken);

    /// <summary>
    /// How many of the sync's requests this peer may have outstanding at once (docs/peers.md, Requests in flight). One
    /// request at a time leaves the link idle while the answer is checked and written and the next one asked; a peer that
    /// pipelines (a devp2p session answers in order) or spreads requests over connections (a JSON-RPC node) gives more.
    /// An in-process peer, and any other by default, takes one at a time, as geth's downloader asks each peer.
    /// </summary>
    int MaxRequests => 1;

    /// <summary>
    /// The peer set dropped this peer (<see cref="PeerSet.Drop(ISyncPeer, string, DropCause)"/>): a transport with a
    /// session of its own ends it with a reason the other side reads, as geth's downloader hangs up on a peer it drops
    /// (devp2p: Disconnect, useless peer). Called once per drop, outside the set's lock; it must return at once and not
    /// throw. A JSON-RPC or in-process peer has no session to end, hence nothing by default; a wrapper forwards it.
    /// </summary>
    void OnDropped(string reason, DropCause cause)
    {
    }
}

/// <summary>A peer failed: transport error, timeout, or an answer that breaks the protocol.</summary>
public sealed class PeerException : Exception
{
    public PeerException(string message)
        : base(message)
    {
    }

    public PeerException()
    {
    }

    public PeerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
