using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>What is wrong with a header answer, if anything.</summary>
public enum ResponseProblem
{
    None,

    /// <summary>No headers: the peer lacks the range (behind us, or pruned).</summary>
    Empty,

    /// <summary>The first header is not the one asked for.</summary>
    WrongStart,

    /// <summary>More headers than asked for.</summary>
    TooMany,

    /// <summary>Fewer headers than asked for, though the peer has the first and so must have its ancestors.</summary>
    TooFew,

    /// <summary>Numbers do not fall by exactly one (a gap, a repeat, a jump).</summary>
    BrokenNumbering,

    /// <summary>A header's parent hash is not the hash of the header after it.</summary>
    BrokenHashLink,

    /// <summary>The batch adjoining the tail does not hash to the subchain's next hash.</summary>
    TailMismatch,
}

/// <summary>Whose fault a rejected answer is, which decides what happens to the peer.</summary>
public enum Blame
{
    /// <summary>Nothing is wrong.</summary>
    None,

    /// <summary>The peer broke the protocol or served another chain: discard the answer and drop the peer.</summary>
    Peer,

    /// <summary>
    /// Not misbehaviour: we asked a peer for what it does not have. Discard the answer, keep the peer, give the
    /// task to another; reporting 0 items to <see cref="Peers.PeerSet.Update"/> sends the peer to the back.
    /// </summary>
    Ours,
}

/// <summary>The outcome of checking an answer: accepted, or the problem, whose fault it is, and a reason for the log.</summary>
internal readonly record struct ResponseVerdict(ResponseProblem Problem, Blame Blame, string Reason)
{
    public static readonly ResponseVerdict Accepted = new(ResponseProblem.None, Blame.None, "");

    public bool IsAccepted => Problem == ResponseProblem.None;
}

/// <summary>
/// Checks a peer's answer to a reverse header request before anything is stored (go-ethereum skeleton.go's
/// executeTask and processResponse checks). An answer that passes is internally consistent, but only proven
/// to be on our chain once the batch above it links to it: <see cref="LinksToTail"/> is that last step, for the
/// batch adjoining the subchain's tail.
/// <para>
/// geth only drops a peer for a timeout or a tail mismatch and quietly re-asks otherwise. Here every answer a
/// correct peer cannot give is the peer's fault and costs it its place (docs/quality.md: wrong, short, unlinked peers
/// cost only themselves); an empty answer is what an honest peer a block behind gives, so it costs nothing.
/// </para>
/// </summary>
internal static class ResponseCheck
{
    /// <summary>
    /// The answer <paramref name="headers"/> to <paramref name="request"/>, cheapest checks first: emptiness, the
    /// first number, the count, the numbering, and last the hash links (a keccak per header not already hashed).
    /// </summary>
    public static ResponseVerdict Check(HeaderRange request, IReadOnlyList<BlockHeader> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)request.Count, request.Origin);

        if (headers.Count == 0)
        {
            return Reject(ResponseProblem.Empty, Blame.Ours, $"no headers for #{request.Origin}");
        }
        if (headers[0].Number != request.Origin)
        {
            return Reject(ResponseProblem.WrongStart, Blame.Peer, $"first header is #{headers[0].Number}, asked for #{request.Origin}");
        }
        if (headers.Count > request.Count)
        {
            return Reject(ResponseProblem.TooMany, Blame.Peer, $"{headers.Count} headers, asked for {request.Count}");
        }
        // Requests never reach below block 1, and a peer holding the first header holds all its ancestors.
        if (headers.Count < request.Count)
        {
            return Reject(ResponseProblem.TooFew, Blame.Peer, $"{headers.Count} headers, asked for {request.Count} from #{request.Origin}");
        }
        for (var i = 1; i < headers.Count; i++)
        {
            if (headers[i].Number != headers[i - 1].Number - 1)
            {
                return Reject(ResponseProblem.BrokenNumbering, Blame.Peer, $"header {i} is #{headers[i].Number} after #{headers[i - 1].Number}");
            }
        }
        // One keccak per header is most of a sync's CPU beside the writes; four at a time it costs about a third.
        BlockHeader.HashAll(headers);
        for (var i = 0; i < headers.Count - 1; i++)
        {
            var parent = headers[i + 1].Hash;
            if (headers[i].ParentHash != parent)
            {
                return Reject(
                    ResponseProblem.BrokenHashLink,
                    Blame.Peer,
                    $"#{headers[i].Number} has parent {headers[i].ParentHash.ToShortString()}, #{headers[i + 1].Number} hashes to {parent.ToShortString()}");
            }
        }
        return ResponseVerdict.Accepted;
    }

    /// <summary>
    /// Whether the batch adjoining the tail starts with the header the subchain waits for: its hash must be
    /// <paramref name="next"/>, the tail's parent hash. If not, the peer served another chain than the one the
    /// beacon node gave us; the batch is discarded and the peer dropped.
    /// </summary>
    public static ResponseVerdict LinksToTail(IReadOnlyList<BlockHeader> batch, Hash256 next)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfZero(batch.Count);
        var first = batch[0];
        var hash = first.Hash;
        return hash == next
            ? ResponseVerdict.Accepted
            : Reject(ResponseProblem.TailMismatch, Blame.Peer, $"#{first.Number} hashes to {hash.ToShortString()}, the tail wants {next.ToShortString()}");
    }

    private static ResponseVerdict Reject(ResponseProblem problem, Blame blame, string reason) => new(problem, blame, reason);
}
