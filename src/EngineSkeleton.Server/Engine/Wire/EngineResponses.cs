using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Server.Engine.Wire;

/// <summary>PayloadStatusV1. Spec outcomes are values: the common ones are cached, the rest made by factories.</summary>
internal sealed record PayloadStatusV1(string Status, string? LatestValidHash, string? ValidationError)
{
    public static readonly PayloadStatusV1 Syncing = new("SYNCING", null, null);

    public static readonly PayloadStatusV1 Accepted = new("ACCEPTED", null, null);

    /// <summary>INVALID with no latestValidHash: block hash mismatch (V2+), bad versioned hashes, zero head.</summary>
    public static PayloadStatusV1 InvalidUnanchored(string error) => new("INVALID", null, error);

    public static PayloadStatusV1 Valid(Hash256 hash) => new("VALID", hash.ToString(), null);

    public static PayloadStatusV1 Invalid(Hash256? latestValidHash, string error) => new("INVALID", latestValidHash?.ToString(), error);

    /// <summary>engine_newPayloadV1 only: the block hash did not match (V2+ say INVALID instead).</summary>
    public static PayloadStatusV1 InvalidBlockHash(string error) => new("INVALID_BLOCK_HASH", null, error);
}

/// <summary>forkchoiceUpdated's answer; payloadId is always written, as null, since no payload is ever built.</summary>
internal sealed record ForkchoiceUpdatedResponse(PayloadStatusV1 PayloadStatus, string? PayloadId)
{
    public static readonly ForkchoiceUpdatedResponse Syncing = new(PayloadStatusV1.Syncing, null);
}

internal sealed record WithdrawalV1(string Index, string ValidatorIndex, string Address, string Amount)
{
    public static WithdrawalV1 From(Withdrawal w) =>
        new(Params.Quantity(w.Index), Params.Quantity(w.ValidatorIndex), w.Address.ToString(), Params.Quantity(w.AmountGwei));
}

/// <summary>ExecutionPayloadBodyV1: withdrawals null for pre-Shanghai blocks (shanghai.md).</summary>
internal sealed record ExecutionPayloadBodyV1(IReadOnlyList<string> Transactions, IReadOnlyList<WithdrawalV1>? Withdrawals)
{
    public static ExecutionPayloadBodyV1 From(BlockBody body) =>
        new([.. body.Transactions.Select(t => Hex.Encode(t))], body.Withdrawals?.Select(WithdrawalV1.From).ToArray());
}

/// <summary>ClientVersionV1 (execution-apis identification.md).</summary>
internal sealed record ClientVersionV1(string Code, string Name, string Version, string Commit);
