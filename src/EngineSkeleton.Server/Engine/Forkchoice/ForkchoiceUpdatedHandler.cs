using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Server.Engine.Forkchoice;

/// <summary>
/// engine_forkchoiceUpdated for every version (paris.md "Specification", in its order): zero or invalid head →
/// INVALID; unknown head → SYNCING and the head goes to the syncer; known head → safe/finalized must be on its
/// chain (-38002) → forkchoice applied atomically → attributes checked → building refused (docs/trust.md).
/// </summary>
internal sealed partial class ForkchoiceUpdatedHandler(
    ChainStore store,
    InvalidBlocks invalid,
    PendingHeaders pending,
    IBeaconSync sync,
    ILogger<ForkchoiceUpdatedHandler> logger)
{
    /// <summary>The error answered to payloadAttributes on a VALID head: this node never builds (docs/trust.md).</summary>
    public const string BuildingNotSupported =
        "payload building is not supported: EngineSkeleton follows the chain without executing transactions; the forkchoice was applied";

    /// <summary>docs/sync.md (Engine wiring): a header for an unknown head is asked of peers for at most this long before answering SYNCING.</summary>
    public static readonly TimeSpan HeaderFetchBound = TimeSpan.FromSeconds(1);

    public async Task<ForkchoiceUpdatedResponse> HandleAsync(ForkchoiceState state, JsonElement attributes, Action<JsonElement, BlockHeader> checkAttributes)
    {
        if (state.Head.IsZero)
        {
            return new ForkchoiceUpdatedResponse(PayloadStatusV1.InvalidUnanchored("forkchoice head is the zero hash"), null);
        }
        if (invalid.TryGet(state.Head, out var lastValid))
        {
            return new ForkchoiceUpdatedResponse(PayloadStatusV1.Invalid(lastValid, "head block was found invalid"), null);
        }
        if (invalid.IsTooDeep(state.Head))
        {
            throw RpcException.TooDeepReorg(); // the sync found it links below the finalized block
        }
        var head = store.GetHeader(state.Head);
        if (head is null)
        {
            var header = pending.Get(state.Head) ?? await sync.FetchHeaderAsync(state.Head, HeaderFetchBound).ConfigureAwait(false);
            if (header is not null && invalid.TryGetAncestor(header, out var badAncestor))
            {
                return new ForkchoiceUpdatedResponse(PayloadStatusV1.Invalid(badAncestor, "head descends from an invalid block"), null);
            }
            if (header is not null && RewindsBelowFinalized(header))
            {
                throw RpcException.TooDeepReorg();
            }
            if (header is not null)
            {
                SyncHandOver.Send(sync, header, state.Finalized, force: true, logger); // forced: taken whatever the syncer is doing
            }
            else
            {
                sync.Announce(state.Head, state.Finalized);
            }
            Log.UnknownHead(logger, state.Head);
            return ForkchoiceUpdatedResponse.Syncing;
        }

        // paris.md point 2: a head at or below the finalized block on the canonical chain is acknowledged, not applied;
        // so is one below the frozen blocks, which never leave the canonical chain (docs/decisions.md, Frozen blocks).
        if (store.ImmutableHeader is { } immutable && head.Number < immutable.Number && store.IsCanonical(head))
        {
            return new ForkchoiceUpdatedResponse(PayloadStatusV1.Valid(head.Hash), null);
        }

        var safe = CheckOnChain(head, state.Safe, "safe");
        var final = CheckOnChain(head, state.Finalized, "finalized");
        if (RewindsBelowFinalized(head))
        {
            throw RpcException.TooDeepReorg(); // paris.md point 6, after point 5's -38002
        }
        store.SetForkchoice(head, safe, final);
        Log.ForkchoiceApplied(logger, head.Number, head.Hash);

        if (!Params.IsMissing(attributes))
        {
            checkAttributes(attributes, head);
            throw new RpcException(RpcErrorCodes.ServerError, BuildingNotSupported);
        }
        return new ForkchoiceUpdatedResponse(PayloadStatusV1.Valid(head.Hash), null);
    }

    /// <summary>
    /// paris.md point 6 with our limit: a reorg may not take the finalized block off the canonical chain (decisions.md).
    /// Known for a stored head (is the finalized block its ancestor?), a head at or below the finalized number, and a
    /// head whose parent is stored; otherwise the sync decides once it knows where the head's chain links.
    /// </summary>
    private bool RewindsBelowFinalized(BlockHeader head)
    {
        if (store.ImmutableHeader is not { } finalized || head.Hash == finalized.Hash)
        {
            return false;
        }
        if (store.HasBlock(head.Hash))
        {
            return !store.IsAncestor(head, finalized);
        }
        if (head.Number <= finalized.Number)
        {
            return true;
        }
        return store.GetHeader(head.ParentHash) is { } parent && !store.IsAncestor(parent, finalized);
    }

    /// <summary>A non-zero safe or finalized hash must be a known block on the head's chain, else -38002.</summary>
    private Hash256? CheckOnChain(BlockHeader head, Hash256 hash, string which)
    {
        if (hash.IsZero)
        {
            return null;
        }
        var header = store.GetHeader(hash);
        if (header is null || !store.IsAncestor(head, header))
        {
            throw RpcException.InvalidForkchoiceState(
                header is null ? $"{which} block {hash} is unknown" : $"{which} block {hash} is not an ancestor of the head");
        }
        return hash;
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Information, "Forkchoice requested sync to unknown head hash={Hash}")]
        public static partial void UnknownHead(ILogger logger, Hash256 hash);

        [LoggerMessage(201, LogLevel.Debug, "Forkchoice applied number={Number} hash={Hash}")]
        public static partial void ForkchoiceApplied(ILogger logger, ulong number, Hash256 hash);
    }
}
