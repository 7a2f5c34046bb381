using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Testing.Peers;

/// <summary>
/// How an <see cref="InProcessPeer"/> misbehaves; combine freely. The peer reads the whole set once per request,
/// so swapping <see cref="InProcessPeer.Faults"/> mid-test never mixes two sets in one answer. In the order a
/// request meets them: <see cref="Silent"/>, <see cref="Gate"/>, <see cref="Delay"/>, <see cref="Garbage"/>,
/// <see cref="Empty"/>, then the header and body faults shape the answer.
/// </summary>
public sealed record PeerFaults
{
    public static readonly PeerFaults None = new();

    /// <summary>Never answers; the request ends only when its cancellation token fires.</summary>
    public bool Silent { get; init; }

    /// <summary>Every answer waits for this task (e.g. a test's TaskCompletionSource) before it is given.</summary>
    public Task? Gate { get; init; }

    /// <summary>Every answer waits this long on the peer's TimeProvider (advance a FakeTimeProvider to release it).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Every request fails with a <see cref="PeerException"/>, as an undecodable answer would.</summary>
    public bool Garbage { get; init; }

    /// <summary>Every answer is empty (no headers, no bodies, no header by hash).</summary>
    public bool Empty { get; init; }

    /// <summary>The peer lacks this header: reverse answers stop just above it; by hash it is unknown.</summary>
    public ulong? WithholdAt { get; init; }

    /// <summary>Reverse answers that cover this number carry its header twice in a row.</summary>
    public ulong? DuplicateAt { get; init; }

    /// <summary>
    /// The header at this number is served altered (extraData changed), so its hash differs from what its child
    /// links to; at the top of an answer, the answer is self-consistent but does not link to the tail.
    /// </summary>
    public ulong? ChangeAt { get; init; }

    /// <summary>
    /// The body at this number is served with one well-formed legacy transaction more than its header commits to, so
    /// it breaks the header's transactionsRoot and nothing else.
    /// </summary>
    public ulong? CorruptBodyAt { get; init; }
}

/// <summary>Which <see cref="ISyncPeer"/> method a request came through.</summary>
public enum PeerRequestKind
{
    HeadersReverse,
    HeaderByHash,
    Bodies,
}

/// <summary>
/// A request as an <see cref="InProcessPeer"/> received it. For <see cref="PeerRequestKind.HeadersReverse"/>:
/// origin and count, no hashes; by hash: the one hash; bodies: the hashes.
/// </summary>
public sealed record PeerRequest(PeerRequestKind Kind, ulong Origin, int Count, IReadOnlyList<Hash256> Hashes);
