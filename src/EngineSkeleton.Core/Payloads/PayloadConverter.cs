using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;

namespace EngineSkeleton.Core.Payloads;

/// <summary>Payload ↔ block: the header is rebuilt field by field so that its hash can be checked against blockHash.</summary>
public static class PayloadConverter
{
    /// <summary>
    /// The block a payload stands for. <paramref name="parentBeaconBlockRoot"/> (V3+) and the commitment to the
    /// execution requests (V4+, <see cref="ExecutionRequests.Hash"/>) come beside the payload in newPayload.
    /// </summary>
    public static Block ToBlock(ExecutionPayload payload, Hash256? parentBeaconBlockRoot, Hash256? requestsHash)
    {
        var header = new BlockHeader
        {
            ParentHash = payload.ParentHash,
            OmmersHash = Keccak256.OfEmptyList,
            Beneficiary = payload.FeeRecipient,
            StateRoot = payload.StateRoot,
            TransactionsRoot = TrieRoots.OfList(payload.Transactions),
            ReceiptsRoot = payload.ReceiptsRoot,
            LogsBloom = payload.LogsBloom,
            Difficulty = 0,
            Number = payload.BlockNumber,
            GasLimit = payload.GasLimit,
            GasUsed = payload.GasUsed,
            Timestamp = payload.Timestamp,
            ExtraData = payload.ExtraData,
            MixHash = payload.PrevRandao,
            Nonce = 0,
            BaseFeePerGas = payload.BaseFeePerGas,
            WithdrawalsRoot = payload.Withdrawals is { } w ? TrieRoots.OfWithdrawals(w) : null,
            BlobGasUsed = payload.BlobGasUsed,
            ExcessBlobGas = payload.ExcessBlobGas,
            ParentBeaconBlockRoot = parentBeaconBlockRoot,
            RequestsHash = requestsHash,
        };
        return new Block(header, new BlockBody(payload.Transactions, [], payload.Withdrawals));
    }

    /// <summary>The payload of a stored post-merge block (for bodies and tests).</summary>
    public static ExecutionPayload FromBlock(Block block)
    {
        var h = block.Header;
        return new ExecutionPayload
        {
            ParentHash = h.ParentHash,
            FeeRecipient = h.Beneficiary,
            StateRoot = h.StateRoot,
            ReceiptsRoot = h.ReceiptsRoot,
            LogsBloom = h.LogsBloom,
            PrevRandao = h.MixHash,
            BlockNumber = h.Number,
            GasLimit = h.GasLimit,
            GasUsed = h.GasUsed,
            Timestamp = h.Timestamp,
            ExtraData = h.ExtraData,
            BaseFeePerGas = h.BaseFeePerGas ?? 0,
            BlockHash = h.Hash,
            Transactions = block.Body.Transactions,
            Withdrawals = block.Body.Withdrawals,
            BlobGasUsed = h.BlobGasUsed,
            ExcessBlobGas = h.ExcessBlobGas,
        };
    }
}
