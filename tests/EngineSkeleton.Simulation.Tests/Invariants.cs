using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Simulation.Tests.World;

namespace EngineSkeleton.Simulation.Tests;

/// <summary>
/// What must hold of the stores after every step, and of what a killed process committed (docs/simulation.md,
/// Invariants). Each check names what broke; null when all hold.
/// </summary>
internal sealed class Invariants(BlockTree tree)
{
    // The chain store's canonical head as last verified: a later check walks down only to it while it is still
    // canonical below the new head (a canonical write rewrites the index from its fork point up, never below), across
    // restarts too — the blocks below it were checked after the write that put them there.
    private BlockHeader? _verified;

    /// <summary>Milliseconds spent checking each store, over all seeds of the test run (the throughput line reports them).</summary>
    public static long SkeletonMs;

    /// <inheritdoc cref="SkeletonMs"/>
    public static long ChainMs;

    /// <summary>Checks that found more than one subchain stored: how often merges and trims were within reach.</summary>
    public static long SeveralSubchains;

    /// <summary>Checks the store(s) written since the last check; both on a process just started.</summary>
    public string? Check(NodeProcess process, IReadOnlyList<BlockHeader> announced, bool skeleton, bool chain)
    {
        var clock = global::System.Diagnostics.Stopwatch.StartNew();
        var a = skeleton ? Skeleton(process) : null;
        var t1 = clock.ElapsedMilliseconds;
        var b = chain ? Chain(process, announced) : null;
        Interlocked.Add(ref SkeletonMs, t1);
        Interlocked.Add(ref ChainMs, clock.ElapsedMilliseconds - t1);
        return a ?? b;
    }

    /// <summary>
    /// The skeleton store: the progress names subchains newest first, disjoint and ordered (each tail above the next
    /// one's head); every number of a subchain has its header; each header hash-links to its successor; the tail's
    /// parent is the subchain's next; and every header is a block of the network (no garbage kept).
    /// </summary>
    private string? Skeleton(NodeProcess process)
    {
        if (process.Skeleton.LoadProgress() is not { } progress)
        {
            return null;
        }
        var subchains = progress.Subchains;
        if (subchains.Count > 1)
        {
            Interlocked.Increment(ref SeveralSubchains);
        }
        for (var i = 0; i < subchains.Count; i++)
        {
            var s = subchains[i];
            if (s.Head < s.Tail || s.Tail == 0)
            {
                return $"subchain {i} [{s.Head}..{s.Tail}] is not a range above the genesis";
            }
            if (i > 0 && subchains[i - 1].Tail <= s.Head)
            {
                return $"subchains {i - 1} [{subchains[i - 1].Head}..{subchains[i - 1].Tail}] and {i} [{s.Head}..{s.Tail}] overlap or are out of order";
            }
            BlockHeader? child = null;
            for (var n = s.Head; ; n--)
            {
                if (process.Skeleton.GetHeader(n) is not { } header)
                {
                    return $"subchain {i} [{s.Head}..{s.Tail}] has no stored header at #{n}: the progress and the headers disagree";
                }
                if (header.Number != n)
                {
                    return $"the header stored at #{n} is #{header.Number}";
                }
                if (child is not null && child.ParentHash != header.Hash)
                {
                    return $"stored header #{n} {header.Hash} does not link to #{n + 1}, whose parent is {child.ParentHash}";
                }
                if (!tree.Knows(header.Hash))
                {
                    return $"stored header #{n} {header.Hash} is no block of the network: garbage was kept";
                }
                child = header;
                if (n == s.Tail)
                {
                    break;
                }
            }
            if (child!.ParentHash != s.Next)
            {
                return $"subchain {i}'s next {s.Next} is not its tail #{s.Tail}'s parent {child.ParentHash}";
            }
        }
        return null;
    }

    /// <summary>
    /// The chain store: its head is a block of the network that some announced head descends from (nothing is made
    /// canonical that the beacon node did not ask for); every number from the head down to the genesis is canonical
    /// with the head's ancestor at that number and held in full — so a head is VALID only when its whole chain down to
    /// the anchor is filled, and only with blocks that passed every check (the network's blocks are all valid, and a
    /// block that is not the network's has a hash no announced head descends from).
    /// </summary>
    private string? Chain(NodeProcess process, IReadOnlyList<BlockHeader> announced)
    {
        var chain = process.Chain;
        var head = chain.HeadHeader;
        if (!tree.Knows(head.Hash))
        {
            return $"the canonical head #{head.Number} {head.Hash} is no block of the network";
        }
        if (head.Number > 0 && !announced.Any(a => tree.Descends(a, head.Hash, head.Number)))
        {
            return $"the canonical head #{head.Number} {head.Hash} is no announced head nor an ancestor of one";
        }
        var stop = _verified is { } v && tree.Descends(head, v.Hash, v.Number) && chain.GetCanonicalHash(v.Number) == v.Hash ? v.Number : 0;
        for (var n = head.Number; ; n--)
        {
            var expected = tree.AncestorAt(head, n).Hash;
            if (chain.GetCanonicalHash(n) is not { } canonical || canonical != expected)
            {
                return $"canonical #{n} is {chain.GetCanonicalHash(n)?.ToString() ?? "missing"}, not the head #{head.Number}'s ancestor {expected}";
            }
            // The header first: on a store just opened (header cache empty) HasBlock's Exists query scans the block
            // collection, which made this walk quadratic (14 s for 1,000 blocks); a header read fills the cache.
            if (chain.GetHeader(canonical) is not { } block || block.Number != n || !chain.HasBlock(canonical))
            {
                return $"canonical block #{n} {canonical} is not held in full under the head #{head.Number}";
            }
            if (n == stop)
            {
                break;
            }
        }
        _verified = head;
        return null;
    }
}
