using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// What devp2p serves and announces; the host implements it over its chain store. Called from every peer's read
/// loop at once, so implementations must be thread-safe; each call should be cheap (one lookup).
/// </summary>
public interface IEthChain
{
    /// <summary>Genesis hash, chain id (our network id) and fork schedule: what Status carries and the fork id is made of.</summary>
    ChainSpec Spec { get; }

    /// <summary>Our canonical head: Status's latest block (eth/69) or best hash (eth/68), and the fork id's position.</summary>
    BlockHeader Head { get; }

    /// <summary>The head's total difficulty, for eth/68 Status's td field (meaningless since the merge, but required).</summary>
    BigInteger HeadTotalDifficulty { get; }

    /// <summary>Lowest block whose body we hold: eth/69 Status and BlockRangeUpdate's earliestBlock.</summary>
    ulong Earliest { get; }

    /// <summary>The canonical header at <paramref name="number"/>, or null.</summary>
    BlockHeader? GetHeader(ulong number);

    BlockHeader? GetHeader(Hash256 hash);

    BlockBody? GetBody(Hash256 hash);
}
