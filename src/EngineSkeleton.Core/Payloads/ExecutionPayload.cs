using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Payloads;

/// <summary>
/// An execution payload as the Engine API carries it (ExecutionPayloadV1..V3 of execution-apis): a block with its
/// header fields spread out, minus what the payload leaves implicit (ommers, difficulty, nonce, roots of lists).
/// Version-specific fields are null when absent.
/// </summary>
public sealed record ExecutionPayload
{
    public required Hash256 ParentHash { get; init; }

    public required Address FeeRecipient { get; init; }

    public required Hash256 StateRoot { get; init; }

    public required Hash256 ReceiptsRoot { get; init; }

    public required byte[] LogsBloom { get; init; }

    public required Hash256 PrevRandao { get; init; }

    public required ulong BlockNumber { get; init; }

    public required ulong GasLimit { get; init; }

    public required ulong GasUsed { get; init; }

    public required ulong Timestamp { get; init; }

    public required byte[] ExtraData { get; init; }

    public required BigInteger BaseFeePerGas { get; init; }

    public required Hash256 BlockHash { get; init; }

    public required IReadOnlyList<byte[]> Transactions { get; init; }

    /// <summary>V2 on (Shanghai).</summary>
    public IReadOnlyList<Withdrawal>? Withdrawals { get; init; }

    /// <summary>V3 on (Cancun).</summary>
    public ulong? BlobGasUsed { get; init; }

    /// <summary>V3 on (Cancun).</summary>
    public ulong? ExcessBlobGas { get; init; }
}
