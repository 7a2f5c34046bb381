using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Payloads;
using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Engine.Wire;

/// <summary>Which ExecutionPayload structure a method takes (execution-apis paris/shanghai/cancun.md).</summary>
internal enum PayloadShape
{
    /// <summary>ExecutionPayloadV1: no withdrawals, no blob fields.</summary>
    V1,

    /// <summary>ExecutionPayloadV1 or V2 (newPayloadV2): withdrawals optional here, checked against the fork later.</summary>
    V1OrV2,

    /// <summary>ExecutionPayloadV3: withdrawals and both blob fields required.</summary>
    V3,
}

/// <summary>Reads an ExecutionPayload object strictly; any shape error is -32602.</summary>
internal static class PayloadJson
{
    public static ExecutionPayload Parse(JsonElement element, PayloadShape shape)
    {
        var p = Params.RequireObject(element, "executionPayload");
        var withdrawals = Params.Has(p, "withdrawals") ? ParseWithdrawals(Params.RequireArray(Params.Field(p, "withdrawals"), "withdrawals")) : null;
        var hasBlobGas = Params.Has(p, "blobGasUsed");
        var hasExcess = Params.Has(p, "excessBlobGas");
        switch (shape)
        {
            case PayloadShape.V1 when withdrawals is not null:
                throw RpcException.InvalidParams("withdrawals are not part of ExecutionPayloadV1");
            case PayloadShape.V1 or PayloadShape.V1OrV2 when hasBlobGas || hasExcess:
                throw RpcException.InvalidParams("blobGasUsed/excessBlobGas are not part of ExecutionPayloadV1/V2");
            case PayloadShape.V3 when withdrawals is null:
                throw RpcException.InvalidParams("missing withdrawals");
            case PayloadShape.V3 when !hasBlobGas:
                throw RpcException.InvalidParams("missing blobGasUsed");
            case PayloadShape.V3 when !hasExcess:
                throw RpcException.InvalidParams("missing excessBlobGas");
            default:
                break;
        }
        return new ExecutionPayload
        {
            ParentHash = Params.Hash(p, "parentHash"),
            FeeRecipient = Params.Address(p, "feeRecipient"),
            StateRoot = Params.Hash(p, "stateRoot"),
            ReceiptsRoot = Params.Hash(p, "receiptsRoot"),
            LogsBloom = Params.Fixed(Params.Field(p, "logsBloom"), "logsBloom", 256),
            PrevRandao = Params.Hash(p, "prevRandao"),
            BlockNumber = Params.UInt64(p, "blockNumber"),
            GasLimit = Params.UInt64(p, "gasLimit"),
            GasUsed = Params.UInt64(p, "gasUsed"),
            Timestamp = Params.UInt64(p, "timestamp"),
            ExtraData = Params.Data(p, "extraData"),
            BaseFeePerGas = Params.UInt256(p, "baseFeePerGas"),
            BlockHash = Params.Hash(p, "blockHash"),
            Transactions = ParseTransactions(Params.RequireArray(Params.Field(p, "transactions"), "transactions")),
            Withdrawals = withdrawals,
            BlobGasUsed = hasBlobGas ? Params.UInt64(p, "blobGasUsed") : null,
            ExcessBlobGas = hasExcess ? Params.UInt64(p, "excessBlobGas") : null,
        };
    }

    private static byte[][] ParseTransactions(JsonElement array)
    {
        var txs = new byte[array.GetArrayLength()][];
        var i = 0;
        foreach (var tx in array.EnumerateArray())
        {
            txs[i] = Params.DataValue(tx, $"transactions[{i}]");
            i++;
        }
        return txs;
    }

    public static Withdrawal[] ParseWithdrawals(JsonElement array)
    {
        var withdrawals = new Withdrawal[array.GetArrayLength()];
        var i = 0;
        foreach (var w in array.EnumerateArray())
        {
            var o = Params.RequireObject(w, $"withdrawals[{i}]");
            withdrawals[i] = new Withdrawal(
                Params.UInt64(o, "index"),
                Params.UInt64(o, "validatorIndex"),
                Params.Address(o, "address"),
                Params.UInt64(o, "amount"));
            i++;
        }
        return withdrawals;
    }
}
