using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// The local chain as the skeleton sees it: is (number, hash) a block the node has in full on its canonical chain,
/// at or below its head? (geth's linked(): canonical mapping, header and body, not just presence by hash.)
/// </summary>
public interface IChainLink
{
    bool IsLinked(ulong number, Hash256 hash);

    /// <summary>
    /// The number of the local chain's anchor (the genesis, or a --sync.checkpoint block): the skeleton never asks for
    /// headers at or below it, since the link is found at anchor + 1 and a peer need hold nothing older (README.md (flags)).
    /// </summary>
    ulong AnchorNumber => 0;

    /// <summary>The anchor's hash, for the operator when a head's chain does not reach it; null if unknown.</summary>
    Hash256? AnchorHash => null;
}
