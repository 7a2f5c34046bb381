using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Chain;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// The chain store as the skeleton's link target: canonical at that number, held in full (header and body), and not
/// above the local head — a block present only by hash (a side branch) never counts (docs/sync.md).
/// <para>
/// The head bound is geth's (skeleton.go, linked()): there a head rewound by setHead and a kill can leave canonical
/// segments above it that would still link. ChainStore moves its head and its canonical index in one transaction
/// and answers no canonical hash above the head, so here the bound is a second guard that keeps the rule from
/// resting on how the store keeps its index (SkeletonRetrievalTests.Link_detection_skips_blocks_that_are_stored_but_not_canonical).
/// </para>
/// </summary>
public sealed class ChainLink(ChainStore chain) : IChainLink
{
    public bool IsLinked(ulong number, Hash256 hash) =>
        number <= chain.HeadHeader.Number && chain.GetCanonicalHash(number) == hash && chain.HasBlock(hash);

    public ulong AnchorNumber => chain.AnchorHeader.Number;

    public Hash256? AnchorHash => chain.AnchorHeader.Hash;
}
