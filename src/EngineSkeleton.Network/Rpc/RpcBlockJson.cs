using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// Rebuilds a header from the block object of <c>eth_getBlockByNumber</c>/<c>eth_getBlockByHash</c> (execution-apis
/// block schema). The optional fork fields decide the shape, as in RLP: baseFeePerGas (London), withdrawalsRoot
/// (Shanghai), blobGasUsed + excessBlobGas + parentBeaconBlockRoot (Cancun), requestsHash (Prague); a member
/// that is absent or JSON null is not there. The caller re-hashes the result and compares it with the block's
/// <c>hash</c>: JSON carries no proof, only the hash does.
/// </summary>
internal static class RpcBlockJson
{
    /// <summary>Reads the header fields and the claimed hash; false with the first bad field named.</summary>
    public static bool TryReadHeader(
        JsonElement block,
        [NotNullWhen(true)] out BlockHeader? header,
        out Hash256 claimedHash,
        [NotNullWhen(false)] out string? error)
    {
        header = null;
        claimedHash = default;
        if (block.ValueKind != JsonValueKind.Object)
        {
            error = $"a block is a JSON object, got {block.ValueKind}";
            return false;
        }
        var r = new RpcJsonFields(block);
        claimedHash = r.Hash("hash");
        var logsBloom = r.Data("logsBloom");
        if (r.Error is null && logsBloom.Length != BlockHeader.LogsBloomSize)
        {
            r.Fail("logsBloom", $"{logsBloom.Length} bytes, not {BlockHeader.LogsBloomSize}");
        }
        var candidate = new BlockHeader
        {
            ParentHash = r.Hash("parentHash"),
            OmmersHash = r.Hash("sha3Uncles"),
            Beneficiary = r.Address("miner"),
            StateRoot = r.Hash("stateRoot"),
            TransactionsRoot = r.Hash("transactionsRoot"),
            ReceiptsRoot = r.Hash("receiptsRoot"),
            LogsBloom = r.Error is null ? logsBloom : new byte[BlockHeader.LogsBloomSize],
            Difficulty = r.BigQuantity("difficulty"),
            Number = r.Quantity("number"),
            GasLimit = r.Quantity("gasLimit"),
            GasUsed = r.Quantity("gasUsed"),
            Timestamp = r.Quantity("timestamp"),
            ExtraData = r.Data("extraData"),
            // prevRandao (EIP-4399) is the same field under its post-merge name; some nodes send only that.
            MixHash = r.Has("mixHash") || !r.Has("prevRandao") ? r.Hash("mixHash") : r.Hash("prevRandao"),
            Nonce = r.Nonce("nonce"),
            BaseFeePerGas = r.Has("baseFeePerGas") ? r.BigQuantity("baseFeePerGas") : null,
            WithdrawalsRoot = r.Has("withdrawalsRoot") ? r.Hash("withdrawalsRoot") : null,
            BlobGasUsed = r.Has("blobGasUsed") ? r.Quantity("blobGasUsed") : null,
            ExcessBlobGas = r.Has("excessBlobGas") ? r.Quantity("excessBlobGas") : null,
            ParentBeaconBlockRoot = r.Has("parentBeaconBlockRoot") ? r.Hash("parentBeaconBlockRoot") : null,
            RequestsHash = r.Has("requestsHash") ? r.Hash("requestsHash") : null,
        };
        if (r.Error is not null)
        {
            error = r.Error;
            return false;
        }
        try
        {
            _ = candidate.Hash;
        }
        catch (InvalidOperationException)
        {
            // Encode refuses optional fields that match no fork's shape (say blobGasUsed without withdrawalsRoot).
            error = "its fork fields match no header shape (a later fork's field without an earlier one's)";
            return false;
        }
        header = candidate;
        error = null;
        return true;
    }

    /// <summary>Reads the block's <c>number</c> and <c>hash</c> only.</summary>
    public static bool TryReadNumberAndHash(JsonElement block, out ulong number, out Hash256 hash, [NotNullWhen(false)] out string? error)
    {
        number = 0;
        hash = default;
        if (block.ValueKind != JsonValueKind.Object)
        {
            error = $"a block is a JSON object, got {block.ValueKind}";
            return false;
        }
        var r = new RpcJsonFields(block);
        number = r.Quantity("number");
        hash = r.Hash("hash");
        error = r.Error;
        return error is null;
    }
}
