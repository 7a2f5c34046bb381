using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;

namespace EngineSkeleton.Core.Validation;

/// <summary>EIP-4844 blob gas accounting, with EIP-7918's reserve price from Osaka on. Pure functions.</summary>
public static class BlobGas
{
    /// <summary>EIP-7918 BLOB_BASE_COST: the blob base fee is kept above this share of the execution base fee.</summary>
    private const ulong BlobBaseCost = 1 << 13;

    /// <summary>EIP-4844 MIN_BASE_FEE_PER_BLOB_GAS.</summary>
    private const ulong MinBaseFeePerBlobGas = 1;

    /// <summary>The excessBlobGas a child of <paramref name="parent"/> stamped <paramref name="timestamp"/> must carry.</summary>
    public static ulong ExcessFor(ChainSpec spec, BlockHeader parent, ulong timestamp)
    {
        var parameters = spec.BlobParametersAt(timestamp) ?? throw new InvalidOperationException($"no blob schedule at {timestamp}");
        var parentExcess = parent.ExcessBlobGas ?? 0;
        var parentUsed = parent.ExcessBlobGas is null ? 0 : parent.BlobGasUsed ?? 0;
        var excess = parentExcess + parentUsed;
        if (excess < parameters.TargetBlobGas)
        {
            return 0;
        }
        if (spec.ForkAt(timestamp) >= Fork.Osaka)
        {
            // EIP-7918: while execution gas prices the blob below its reserve, excess grows as if blobs were unpriced.
            var reservePrice = BlobBaseCost * (parent.BaseFeePerGas ?? BigInteger.Zero);
            var blobPrice = BlobParameters.GasPerBlob * BaseFeePerBlobGas(parentExcess, parameters.UpdateFraction);
            if (reservePrice > blobPrice)
            {
                return parentExcess + (parentUsed * (parameters.Max - parameters.Target) / parameters.Max);
            }
        }
        return excess - parameters.TargetBlobGas;
    }

    public static BigInteger BaseFeePerBlobGas(ulong excessBlobGas, ulong updateFraction) =>
        FakeExponential(MinBaseFeePerBlobGas, excessBlobGas, updateFraction);

    /// <summary>factor · e^(numerator/denominator) by Taylor series, in integers (EIP-4844 fake_exponential).</summary>
    public static BigInteger FakeExponential(BigInteger factor, BigInteger numerator, BigInteger denominator)
    {
        var output = BigInteger.Zero;
        var accumulator = factor * denominator;
        for (var i = 1; accumulator > 0; i++)
        {
            output += accumulator;
            accumulator = accumulator * numerator / (denominator * i);
        }
        return output / denominator;
    }
}
