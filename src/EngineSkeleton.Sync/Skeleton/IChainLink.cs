using EngineSkeleton.Primitives;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// The local chain as the skeleton sees it: is (number, hash) a block the node has in full on its canonical chain,
/// at or below its head? (geth's linked(): canonical mapping, header and body, not just presence by hash.)
/// </summary>
public interface IChainLink
{
    bool IsLinked(ulong number, Hash256 hash);
}
