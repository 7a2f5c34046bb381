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
