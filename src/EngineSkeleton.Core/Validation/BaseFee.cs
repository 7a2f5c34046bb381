using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;

namespace EngineSkeleton.Core.Validation;

/// <summary>EIP-1559 base fee from the parent header. Pure.</summary>
public static class BaseFee
{
    /// <summary>EIP-1559 INITIAL_BASE_FEE, the base fee of the first London block.</summary>
    public static readonly BigInteger Initial = 1_000_000_000;

    /// <summary>EIP-1559 ELASTICITY_MULTIPLIER: the gas target is half the limit.</summary>
    public const ulong ElasticityMultiplier = 2;

    /// <summary>EIP-1559 BASE_FEE_MAX_CHANGE_DENOMINATOR: at most 12.5% change per block.</summary>
    private const ulong ChangeDenominator = 8;

    public static BigInteger For(ChainSpec spec, BlockHeader parent)
    {
        if (!spec.IsLondon(parent.Number))
        {
            return Initial;
        }
        var parentBaseFee = parent.BaseFeePerGas ?? BigInteger.Zero;
        var target = parent.GasLimit / ElasticityMultiplier;
        if (parent.GasUsed == target || target == 0)
        {
            return parentBaseFee;
        }
        if (parent.GasUsed > target)
        {
            var delta = parentBaseFee * (parent.GasUsed - target) / target / ChangeDenominator;
            return parentBaseFee + BigInteger.Max(delta, BigInteger.One);
        }
        var decrease = parentBaseFee * (target - parent.GasUsed) / target / ChangeDenominator;
        return BigInteger.Max(parentBaseFee - decrease, BigInteger.Zero);
    }
}
