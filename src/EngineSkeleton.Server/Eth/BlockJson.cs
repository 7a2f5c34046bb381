using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Engine.Wire;

namespace EngineSkeleton.Server.Eth;

/// <summary>A block as eth_getBlockBy* returns it: header fields in geth's names, transaction and ommer hashes.</summary>
internal static class BlockJson
{
    public static Dictionary<string, object?> From(Block block)
    {
        var h = block.Header;
        var json = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["number"] = Params.Quantity(h.Number),
            ["hash"] = h.Hash.ToString(),
            ["parentHash"] = h.ParentHash.ToString(),
            ["nonce"] = "0x" + h.Nonce.ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
            ["mixHash"] = h.MixHash.ToString(),
            ["sha3Uncles"] = h.OmmersHash.ToString(),
            ["logsBloom"] = Hex.Encode(h.LogsBloom),
            ["transactionsRoot"] = h.TransactionsRoot.ToString(),
            ["stateRoot"] = h.StateRoot.ToString(),
            ["receiptsRoot"] = h.ReceiptsRoot.ToString(),
            ["miner"] = h.Beneficiary.ToString(),
            ["difficulty"] = Params.Quantity(h.Difficulty),
            ["extraData"] = Hex.Encode(h.ExtraData),
            ["size"] = Params.Quantity((ulong)block.Encode().Length),
            ["gasLimit"] = Params.Quantity(h.GasLimit),
            ["gasUsed"] = Params.Quantity(h.GasUsed),
            ["timestamp"] = Params.Quantity(h.Timestamp),
            ["transactions"] = block.Body.Transactions.Select(t => Transactions.Hash(t).ToString()).ToArray(),
            ["uncles"] = block.Body.Ommers.Select(o => o.Hash.ToString()).ToArray(),
        };
        if (h.BaseFeePerGas is { } baseFee)
        {
            json["baseFeePerGas"] = Params.Quantity(baseFee);
        }
        if (h.WithdrawalsRoot is { } withdrawalsRoot)
        {
            json["withdrawalsRoot"] = withdrawalsRoot.ToString();
            json["withdrawals"] = block.Body.Withdrawals?.Select(WithdrawalV1.From).ToArray() ?? [];
        }
        if (h.BlobGasUsed is { } blobGasUsed)
        {
            json["blobGasUsed"] = Params.Quantity(blobGasUsed);
        }
        if (h.ExcessBlobGas is { } excessBlobGas)
        {
            json["excessBlobGas"] = Params.Quantity(excessBlobGas);
        }
        if (h.ParentBeaconBlockRoot is { } beaconRoot)
        {
            json["parentBeaconBlockRoot"] = beaconRoot.ToString();
        }
        if (h.RequestsHash is { } requestsHash)
        {
            json["requestsHash"] = requestsHash.ToString();
        }
        return json;
    }
}
