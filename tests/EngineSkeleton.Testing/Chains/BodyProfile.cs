using EngineSkeleton.Core.Chain;

namespace EngineSkeleton.Testing.Chains;

/// <summary>
/// What the blocks of a <see cref="GeneratedChain"/> carry when they are not empty: how many transactions (of every
/// type: legacy, EIP-2930, EIP-1559, EIP-4844 blob and, if <see cref="SetCode"/>, EIP-7702), how much calldata, how
/// many withdrawals, and the blob schedule that sizes the blob transactions and the header's excessBlobGas.
/// Transactions are well-formed but not signed by anyone: nothing executes them.
/// </summary>
public sealed record BodyProfile
{
    /// <summary>Small blocks of every kind, for tests: ~6 transactions, 4 withdrawals, blobs in bursts.</summary>
    public static readonly BodyProfile Mixed = new();

    /// <summary>
    /// Mainnet-sized blocks for benchmarks: ~150 transactions and 16 withdrawals (mainnet's MAX_WITHDRAWALS_PER_PAYLOAD),
    /// ~100 KB a block (mainnet blocks of 2025 are 60–150 KB; etherscan's averages).
    /// </summary>
    public static readonly BodyProfile Mainnet = new() { Transactions = 150, DataBytes = 540, Withdrawals = 16 };

    /// <summary>Mean transactions a block (besides its blob transactions); a block has between ½ and 1½ times this.</summary>
    public int Transactions { get; init; } = 6;

    /// <summary>Mean calldata bytes a transaction; each has between 0 and twice this.</summary>
    public int DataBytes { get; init; } = 64;

    /// <summary>Withdrawals in a non-empty block.</summary>
    public int Withdrawals { get; init; } = 4;

    /// <summary>Whether EIP-7702 set-code transactions appear (Prague and later).</summary>
    public bool SetCode { get; init; } = true;

    /// <summary>
    /// The blob schedule the headers follow (null: no blob transactions). A validator of the chain must use the same
    /// parameters from the genesis on, and no Osaka (its reserve price changes excessBlobGas).
    /// </summary>
    public BlobParameters? Blobs { get; init; } = BlobParameters.Prague;
}
