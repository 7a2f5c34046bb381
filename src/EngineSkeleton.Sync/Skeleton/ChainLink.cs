using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Chain;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// The chain store as the skeleton's link target: canonical at that number, held in full (header and body), and not
/// above the local head — a block present only by hash (a side branch) never counts (docs/sync.md).
/// </summary>
public sealed class ChainLink(ChainStore chain) : IChainLink
{
    public bool IsLinked(ulong number, Hash256 hash) =>
        number <= chain.HeadHeader.Number && chain.GetCanonicalHash(number) == hash && chain.HasBlock(hash);

    public ulong AnchorNumber => chain.AnchorHeader.Number;
}
