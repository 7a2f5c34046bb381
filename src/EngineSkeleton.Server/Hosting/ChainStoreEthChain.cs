using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Storage.Chain;

namespace EngineSkeleton.Server.Hosting;

/// <summary>
/// What devp2p peers are told and served, read from the chain store: canonical headers by number, any stored header
/// or body by hash, our head, and the lowest block we hold (the genesis, or the checkpoint anchor).
/// </summary>
internal sealed class ChainStoreEthChain(ChainStore store, ChainSpec spec) : IEthChain
{
    public ChainSpec Spec => spec;

    public BlockHeader Head => store.HeadHeader;

    /// <summary>
    /// The eth/68 Status td. We keep no per-block total difficulty: a post-merge head's is the terminal total difficulty
    /// (it stops growing at the merge), a head at the anchor's is its own difficulty (the genesis'). Between the two, on a
    /// proof-of-work head, it is an underestimate; geth and ethereumjs no longer act on this field (eth/69 drops it).
    /// </summary>
    public BigInteger HeadTotalDifficulty
    {
        get
        {
            var head = store.HeadHeader;
            return head.Difficulty.IsZero && spec.TerminalTotalDifficulty is { } ttd ? ttd : head.Difficulty;
        }
    }

    public ulong Earliest => store.AnchorHeader.Number;

    public BlockHeader? GetHeader(ulong number) => store.GetCanonicalHeader(number);

    public BlockHeader? GetHeader(Hash256 hash) => store.GetHeader(hash);

    public BlockBody? GetBody(Hash256 hash) => store.GetBody(hash);
}
