using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Testing.Engine;

/// <summary>Writes a block as the JSON-RPC parameters of engine_newPayloadVn, as a consensus client would send it.</summary>
public static class PayloadWriter
{
    public static JsonObject Payload(Block block, int version)
    {
        var h = block.Header;
        var o = new JsonObject
        {
            ["parentHash"] = h.ParentHash.ToString(),
            ["feeRecipient"] = h.Beneficiary.ToString(),
            ["stateRoot"] = h.StateRoot.ToString(),
            ["receiptsRoot"] = h.ReceiptsRoot.ToString(),
            ["logsBloom"] = Hex.Encode(h.LogsBloom),
            ["prevRandao"] = h.MixHash.ToString(),
            ["blockNumber"] = Q(h.Number),
            ["gasLimit"] = Q(h.GasLimit),
            ["gasUsed"] = Q(h.GasUsed),
            ["timestamp"] = Q(h.Timestamp),
            ["extraData"] = Hex.Encode(h.ExtraData),
            ["baseFeePerGas"] = Q(h.BaseFeePerGas ?? 0),
            ["blockHash"] = h.Hash.ToString(),
            ["transactions"] = new JsonArray([.. block.Body.Transactions.Select(t => (JsonNode)Hex.Encode(t))]),
        };
        // A Shanghai-or-later header names a withdrawals root: its payload carries the list, empty when the body has none.
        if (version >= 2 && (block.Body.Withdrawals ?? (h.WithdrawalsRoot is null ? null : [])) is { } withdrawals)
        {
            o["withdrawals"] = new JsonArray([.. withdrawals.Select(w => (JsonNode)new JsonObject
            {
                ["index"] = Q(w.Index),
                ["validatorIndex"] = Q(w.ValidatorIndex),
                ["address"] = w.Address.ToString(),
                ["amount"] = Q(w.AmountGwei),
            })]);
        }
        if (version >= 3)
        {
            o["blobGasUsed"] = Q(h.BlobGasUsed ?? 0);
            o["excessBlobGas"] = Q(h.ExcessBlobGas ?? 0);
        }
        return o;
    }

    /// <summary>newPayloadV3/V4's second parameter: the blob versioned hashes of the block's transactions, in order.</summary>
    public static JsonArray BlobHashes(Block block)
    {
        var all = new JsonArray();
        foreach (var tx in block.Body.Transactions)
        {
            if (!Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out var error))
            {
                throw new InvalidOperationException("a transaction of the block does not decode: " + error);
            }
            foreach (var hash in hashes)
            {
                all.Add(hash.ToString());
            }
        }
        return all;
    }

    /// <summary>The parameters of the newPayload version that serves this block's fork (V2 for Paris/Shanghai).</summary>
    public static (string Method, JsonNode?[] Args) NewPayload(Block block, JsonArray? requests = null)
    {
        var h = block.Header;
        if (h.RequestsHash is not null)
        {
            return ("engine_newPayloadV4", [Payload(block, 3), BlobHashes(block), h.ParentBeaconBlockRoot!.ToString(), requests ?? []]);
        }
        if (h.ParentBeaconBlockRoot is not null)
        {
            return ("engine_newPayloadV3", [Payload(block, 3), BlobHashes(block), h.ParentBeaconBlockRoot!.ToString()]);
        }
        return ("engine_newPayloadV2", [Payload(block, 2)]);
    }

    /// <summary>A JSON-RPC request of <paramref name="method"/> with <paramref name="args"/>, as UTF-8 bytes.</summary>
    public static byte[] Request(string method, JsonNode?[] args) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = new JsonArray(args) }.ToJsonString());

    public static JsonObject Forkchoice(Hash256 head, Hash256? safe = null, Hash256? finalized = null) => new()
    {
        ["headBlockHash"] = head.ToString(),
        ["safeBlockHash"] = (safe ?? head).ToString(),
        ["finalizedBlockHash"] = (finalized ?? Hash256.Zero).ToString(),
    };

    public static string Q(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Q(BigInteger value) => value.IsZero ? "0x0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
}
