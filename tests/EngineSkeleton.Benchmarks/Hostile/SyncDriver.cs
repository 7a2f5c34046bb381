using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>What a consensus client sends to start a sync: newPayload of the head block, then forkchoiceUpdated to it.</summary>
internal static class SyncDriver
{
    /// <summary>engine_newPayloadV4 (Prague/Osaka heads; V3 for Cancun, V2 before) of <paramref name="block"/>.</summary>
    public static byte[] NewPayload(Block block)
    {
        var h = block.Header;
        var payload = new JsonObject
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
        if (block.Body.Withdrawals is { } withdrawals)
        {
            payload["withdrawals"] = new JsonArray([.. withdrawals.Select(w => (JsonNode)new JsonObject
            {
                ["index"] = Q(w.Index),
                ["validatorIndex"] = Q(w.ValidatorIndex),
                ["address"] = w.Address.ToString(),
                ["amount"] = Q(w.AmountGwei),
            })]);
        }
        string method;
        JsonArray args;
        if (h.ParentBeaconBlockRoot is { } beaconRoot)
        {
            payload["blobGasUsed"] = Q(h.BlobGasUsed ?? 0);
            payload["excessBlobGas"] = Q(h.ExcessBlobGas ?? 0);
            var hashes = new JsonArray();
            foreach (var tx in block.Body.Transactions)
            {
                if (Transactions.TryGetBlobVersionedHashes(tx, out var versioned, out _))
                {
                    foreach (var hash in versioned)
                    {
                        hashes.Add(hash.ToString());
                    }
                }
            }
            method = h.RequestsHash is null ? "engine_newPayloadV3" : "engine_newPayloadV4";
            args = h.RequestsHash is null ? [payload, hashes, beaconRoot.ToString()] : [payload, hashes, beaconRoot.ToString(), new JsonArray()];
        }
        else
        {
            method = "engine_newPayloadV2";
            args = [payload];
        }
        return Call(method, args);
    }

    public static byte[] ForkchoiceUpdated(Hash256 head, string version = "V3")
    {
        var state = new JsonObject { ["headBlockHash"] = head.ToString(), ["safeBlockHash"] = head.ToString(), ["finalizedBlockHash"] = head.ToString() };
        return Call("engine_forkchoiceUpdated" + version, [state, null]);
    }

    /// <summary>The payload status of a newPayload or forkchoiceUpdated answer, or the error, for the report.</summary>
    public static string Status(byte[] answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                return "error " + error.GetRawText();
            }
            var result = root.GetProperty("result");
            var status = result.TryGetProperty("payloadStatus", out var nested) ? nested : result;
            return status.GetProperty("status").GetString() ?? "?";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "unreadable: " + Encoding.UTF8.GetString(answer.AsSpan(0, Math.Min(answer.Length, 200)));
        }
    }

    private static byte[] Call(string method, JsonArray args) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = args }.ToJsonString());

    private static string Q(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A JSON-RPC quantity: 0x, lower-case hex, no leading zeros.</summary>
    private static string Q(BigInteger value) => value.IsZero ? "0x0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
}
