using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Payloads;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Server.Engine.NewPayload;

/// <summary>
/// engine_newPayload for every version, once the RPC method has checked shape and fork: rebuild the block from the
/// payload, check its hash, then judge it against its parent if the node has the parent, else hand it to the syncer.
/// </summary>
internal sealed partial class NewPayloadHandler(
    ChainStore store,
    BlockValidator validator,
    InvalidBlocks invalid,
    PendingHeaders pending,
    IBeaconSync sync,
    ILogger<NewPayloadHandler> logger)
{
    public PayloadStatusV1 Handle(
        ExecutionPayload payload,
        IReadOnlyList<Hash256>? expectedBlobHashes,
        Hash256? parentBeaconBlockRoot,
        IReadOnlyList<byte[]>? executionRequests,
        bool v1)
    {
        var block = PayloadConverter.ToBlock(payload, parentBeaconBlockRoot, executionRequests is null ? null : ExecutionRequests.Hash(executionRequests));
        var hash = block.Header.Hash;
        if (hash != payload.BlockHash)
        {
            var error = $"blockhash mismatch: payload says {payload.BlockHash}, block hashes to {hash}";
            Log.BlockHashMismatch(logger, payload.BlockNumber, payload.BlockHash, hash);
            return v1 ? PayloadStatusV1.InvalidBlockHash(error) : PayloadStatusV1.InvalidUnanchored(error);
        }
        if (expectedBlobHashes is not null && CheckBlobHashes(block, expectedBlobHashes) is { } blobError)
        {
            // cancun.md: run even while syncing, answer INVALID with no latestValidHash.
            return PayloadStatusV1.InvalidUnanchored(blobError);
        }
        if (invalid.TryGet(hash, out var lastValid))
        {
            return PayloadStatusV1.Invalid(lastValid, "block was found invalid before");
        }
        if (invalid.TryGetAncestor(block.Header, out var parentLastValid))
        {
            return PayloadStatusV1.Invalid(parentLastValid, "block descends from an invalid block");
        }
        if (store.HasBlock(hash))
        {
            return PayloadStatusV1.Valid(hash);
        }
        var parent = store.GetHeader(block.Header.ParentHash);
        if (parent is null)
        {
            pending.Add(block.Header);
            SyncHandOver.Send(sync, block.Header, Hash256.Zero, force: false, logger); // the answer is SYNCING whatever the reply
            Log.UnknownParent(logger, block.Header.Number, hash, block.Header.ParentHash);
            return PayloadStatusV1.Syncing;
        }
        var result = validator.Validate(block, parent); // blob hashes were checked above
        if (!result.IsValid)
        {
            invalid.Add(hash, parent.Hash);
            Log.InvalidBlock(logger, block.Header.Number, hash, result.Error!);
            return PayloadStatusV1.Invalid(parent.Hash, result.Error!);
        }
        store.WriteBlock(block);
        Log.Imported(logger, block.Header.Number, hash, block.Body.Transactions.Count);
        return PayloadStatusV1.Valid(hash);
    }

    /// <summary>The blob versioned hashes of the block's transactions, in order, must equal the expected list.</summary>
    private static string? CheckBlobHashes(Block block, IReadOnlyList<Hash256> expected)
    {
        var actual = new List<Hash256>();
        foreach (var tx in block.Body.Transactions)
        {
            if (!Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out var error))
            {
                return $"blob transaction is malformed: {error}";
            }
            actual.AddRange(hashes);
        }
        return actual.SequenceEqual(expected)
            ? null
            : $"blob versioned hashes mismatch: transactions carry {actual.Count}, expected {expected.Count}";
    }

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Warning, "Invalid block hash in payload number={Number} claimed={Claimed} computed={Computed}")]
        public static partial void BlockHashMismatch(ILogger logger, ulong number, Hash256 claimed, Hash256 computed);

        [LoggerMessage(101, LogLevel.Debug, "Payload with unknown parent, handed to sync number={Number} hash={Hash} parent={Parent}")]
        public static partial void UnknownParent(ILogger logger, ulong number, Hash256 hash, Hash256 parent);

        [LoggerMessage(102, LogLevel.Warning, "Invalid block number={Number} hash={Hash} error={Error}")]
        public static partial void InvalidBlock(ILogger logger, ulong number, Hash256 hash, string error);

        [LoggerMessage(103, LogLevel.Information, "Imported new payload number={Number} hash={Hash} txs={Txs}")]
        public static partial void Imported(ILogger logger, ulong number, Hash256 hash, int txs);
    }
}
