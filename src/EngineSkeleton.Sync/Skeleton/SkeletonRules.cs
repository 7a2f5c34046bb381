using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Skeleton;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// How a head announced while a sync cycle runs relates to the newest subchain (go-ethereum skeleton.go's
/// processNewHead and its errChain* errors).
/// </summary>
public enum NewHeadOutcome
{
    /// <summary>
    /// The head's parent is the stored header just below it inside the newest subchain; the head becomes that
    /// subchain's head. Usually head+1; a number inside (tail, head] re-points the head back, as geth does.
    /// </summary>
    Extended,

    /// <summary>The header already is the newest subchain's head: nothing changes (geth ignores re-announcements).</summary>
    Duplicate,

    /// <summary>At or below the newest subchain's tail (geth's errChainReorged).</summary>
    Reorged,

    /// <summary>Beyond head+1: the headers in between are unknown (geth's errChainGapped).</summary>
    Gapped,

    /// <summary>The parent hash is not the stored header at number−1 (geth's errChainForked).</summary>
    Forked,
}

/// <summary>
/// What a new head does to the progress. <see cref="Progress"/> carries the new head when extended, and the
/// announced finalized number in every case (geth records it before looking at the head). A head that is not
/// <see cref="Accepted"/> restarts the cycle if forced (forkchoiceUpdated) and is refused if not (newPayload);
/// that choice is the caller's, the classification does not depend on it.
/// </summary>
internal sealed record NewHeadResult(NewHeadOutcome Outcome, SkeletonProgress Progress)
{
    public bool Accepted => Outcome is NewHeadOutcome.Extended or NewHeadOutcome.Duplicate;
}

/// <summary>
/// The progress a sync cycle starts from, and the stored headers no subchain covers any more (trimmed or dropped
/// subchains). geth leaves those on disk; deleting them is safe because nothing reads outside the subchains.
/// </summary>
internal sealed record InitSyncResult(SkeletonProgress Progress, IReadOnlyList<NumberRange> Stale);

/// <summary>The progress after overlapping subchains were merged or trimmed, and whether any merge happened.</summary>
internal sealed record MergeResult(SkeletonProgress Progress, bool Merged);

/// <summary>
/// The progress once the newest subchain linked to the local chain: only that subchain remains. <see cref="Stale"/>
/// is the leftover single header geth deletes; <see cref="Spurious"/> says leftovers were found that a healthy sync
/// never leaves (geth drops them from the progress, keeps their headers and logs an error).
/// </summary>
internal sealed record LinkedResult(SkeletonProgress Progress, IReadOnlyList<NumberRange> Stale, bool Spurious);

/// <summary>Block numbers <see cref="From"/>..<see cref="To"/>, both inclusive.</summary>
internal readonly record struct NumberRange(ulong From, ulong To);

/// <summary>
/// The skeleton's decisions over its progress, as pure functions: what geth's initSync, processNewHead,
/// mergeSubchains and the after-link cleanup of processResponse do to the subchains, without the writes. The
/// caller persists the result (headers and progress in one transaction). <c>headerAt</c> reads a stored skeleton
/// header by number, null if none.
/// </summary>
internal static class SkeletonRules
{
    /// <summary>
    /// Fits the stored progress (null if none) to a new sync target: subchains whose tail is at or above the head
    /// are dropped, the one reaching over it is trimmed to head−1, and the newest is extended by the head if the
    /// stored header at head−1 is its parent; otherwise the head starts a new subchain {head, head, parentHash}. The
    /// stored finalized number is kept (a fresh progress has none). The caller stores the head header with it.
    /// </summary>
    public static InitSyncResult InitSync(SkeletonProgress? stored, BlockHeader head, Func<ulong, BlockHeader?> headerAt)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(headerAt);
        var number = head.Number;
        if (number == 0)
        {
            // The cycle downloads from tail−1 down; a tail of 0 has nothing below it (geth: "tail must not be 0").
            throw new ArgumentOutOfRangeException(nameof(head), "the genesis block cannot be a sync target");
        }
        var fresh = new Subchain(number, number, head.ParentHash);
        if (stored is null)
        {
            return new InitSyncResult(new SkeletonProgress([fresh], null), []);
        }

        var subchains = new List<Subchain>(stored.Subchains.Count + 1);
        foreach (var subchain in stored.Subchains)
        {
            if (subchain.Tail >= number)
            {
                continue; // the new head's chain replaces it (geth's initSync drops it too)
            }
            subchains.Add(subchains.Count == 0 && subchain.Head >= number ? subchain with { Head = number - 1 } : subchain);
        }
        if (subchains.Count > 0 && subchains[0].Head == number - 1 && headerAt(number - 1)?.Hash == head.ParentHash)
        {
            subchains[0] = subchains[0] with { Head = number };
        }
        else
        {
            subchains.Insert(0, fresh);
        }
        var progress = new SkeletonProgress(subchains, stored.Finalized);
        return new InitSyncResult(progress, Uncovered(stored, progress));
    }

    /// <summary>
    /// Classifies a head announced while the cycle runs and, when it extends the newest subchain, moves that
    /// subchain's head to it. <paramref name="finalized"/> (if given) is recorded whatever the outcome.
    /// </summary>
    public static NewHeadResult ProcessNewHead(
        SkeletonProgress progress, BlockHeader head, ulong? finalized, Func<ulong, BlockHeader?> headerAt)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(headerAt);
        if (progress.Subchains.Count == 0)
        {
            throw new ArgumentException("a new head needs a running cycle: the progress has no subchain", nameof(progress));
        }
        if (finalized is { } final && progress.Finalized != final)
        {
            progress = progress with { Finalized = final };
        }
        var newest = progress.Subchains[0];
        var number = head.Number;
        if (newest.Tail >= number)
        {
            // A cycle still down to its single beacon header may hear it again: not worth a restart. That header
            // only: geth reads whatever is stored at the number, and a head below the newest subchain that an older
            // subchain holds was taken as this repeat, so the forced head never restarted the cycle and the sync
            // waited for ever on a head the beacon node had left (found by the simulation, docs/simulation.md).
            var repeated = newest.Head == newest.Tail && number == newest.Head && headerAt(number)?.Hash == head.Hash;
            return new NewHeadResult(repeated ? NewHeadOutcome.Duplicate : NewHeadOutcome.Reorged, progress);
        }
        if (newest.Head + 1 < number)
        {
            return new NewHeadResult(NewHeadOutcome.Gapped, progress);
        }
        if (newest.Head == number && headerAt(number)?.Hash == head.Hash)
        {
            return new NewHeadResult(NewHeadOutcome.Duplicate, progress);
        }
        if (headerAt(number - 1)?.Hash != head.ParentHash)
        {
            return new NewHeadResult(NewHeadOutcome.Forked, progress);
        }
        var subchains = progress.Subchains.ToArray();
        subchains[0] = newest with { Head = number };
        return new NewHeadResult(NewHeadOutcome.Extended, progress with { Subchains = subchains });
    }

    /// <summary>
    /// Resolves overlaps after the newest subchain's tail moved down (geth's mergeSubchains): an older subchain the
    /// newest has reached is trimmed below the newest's tail, or dropped if it lies entirely within it; if the
    /// stored header at the trimmed head is the one the newest subchain wants next, the two merge and the newest
    /// takes the older one's tail and next. Headers in the trimmed part were overwritten by the newest subchain's.
    /// </summary>
    public static MergeResult MergeSubchains(SkeletonProgress progress, Func<ulong, BlockHeader?> headerAt)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(headerAt);
        if (progress.Subchains.Count < 2 || progress.Subchains[1].Head < progress.Subchains[0].Tail)
        {
            return new MergeResult(progress, false);
        }
        var subchains = progress.Subchains.ToList();
        var merged = false;
        while (subchains.Count > 1 && subchains[1].Head >= subchains[0].Tail)
        {
            var newest = subchains[0];
            var older = subchains[1];
            if (older.Tail >= newest.Tail)
            {
                subchains.RemoveAt(1); // the newest subchain's headers overwrote all of it (geth's mergeSubchains)
                continue;
            }
            older = older with { Head = newest.Tail - 1 };
            subchains[1] = older;
            if (headerAt(older.Head)?.Hash == newest.Next)
            {
                subchains[0] = newest with { Tail = older.Tail, Next = older.Next };
                subchains.RemoveAt(1);
                merged = true;
            }
        }
        return new MergeResult(progress with { Subchains = subchains }, merged);
    }

    /// <summary>
    /// What geth does once the newest subchain linked to the local chain: merge what overlaps, then keep only the
    /// newest subchain. One older single-header subchain is the expected leftover of a previous cycle (a head
    /// announced, then blocks imported through the Engine API); anything else is spurious.
    /// </summary>
    public static LinkedResult SettleLinked(SkeletonProgress progress, Func<ulong, BlockHeader?> headerAt)
    {
        var merged = MergeSubchains(progress, headerAt).Progress;
        var subchains = merged.Subchains;
        if (subchains.Count < 2)
        {
            return new LinkedResult(merged, [], false);
        }
        var only = merged with { Subchains = [subchains[0]] };
        if (subchains.Count == 2 && subchains[1].Head == subchains[1].Tail)
        {
            // The merge above dropped a leftover the newest subchain overwrote, so this one lies below its tail.
            var leftover = subchains[1].Head;
            return new LinkedResult(only, [new NumberRange(leftover, leftover)], false);
        }
        return new LinkedResult(only, [], true);
    }

    /// <summary>The numbers some subchain of <paramref name="before"/> covers and none of <paramref name="after"/> does, highest first.</summary>
    public static IReadOnlyList<NumberRange> Uncovered(SkeletonProgress before, SkeletonProgress after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var pieces = new List<NumberRange>();
        foreach (var subchain in before.Subchains)
        {
            pieces.Add(new NumberRange(subchain.Tail, subchain.Head));
        }
        foreach (var kept in after.Subchains)
        {
            var remaining = new List<NumberRange>(pieces.Count + 1);
            foreach (var piece in pieces)
            {
                if (piece.To < kept.Tail || piece.From > kept.Head)
                {
                    remaining.Add(piece);
                    continue;
                }
                if (piece.To > kept.Head)
                {
                    remaining.Add(new NumberRange(kept.Head + 1, piece.To));
                }
                if (piece.From < kept.Tail)
                {
                    remaining.Add(new NumberRange(piece.From, kept.Tail - 1));
                }
            }
            pieces = remaining;
        }
        pieces.Sort((a, b) => b.From.CompareTo(a.From));
        return pieces;
    }
}
