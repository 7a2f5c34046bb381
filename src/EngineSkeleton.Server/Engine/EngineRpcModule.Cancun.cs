using System.Text.Json;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Engine;

/// <summary>Cancun (execution-apis src/engine/cancun.md), with prague.md's and osaka.md's updates.</summary>
internal sealed partial class EngineRpcModule
{
    [JsonRpcMethod("engine_newPayloadV3")]
    public Task<PayloadStatusV1> NewPayloadV3(
        JsonElement executionPayload = default, JsonElement expectedBlobVersionedHashes = default, JsonElement parentBeaconBlockRoot = default)
    {
        var payload = PayloadJson.Parse(executionPayload, PayloadShape.V3);
        var blobHashes = ReadHashes(expectedBlobVersionedHashes, "expectedBlobVersionedHashes");
        var beaconRoot = Params.HashValue(parentBeaconBlockRoot, "parentBeaconBlockRoot");
        if (PayloadFork(payload) != Fork.Cancun)
        {
            throw RpcException.UnsupportedFork($"payload timestamp {payload.Timestamp} is {PayloadFork(payload)}, not Cancun");
        }
        return ImportPayload(payload, blobHashes, beaconRoot, null, v1: false);
    }

    [JsonRpcMethod("engine_forkchoiceUpdatedV3")]
    public Task<ForkchoiceUpdatedResponse> ForkchoiceUpdatedV3(JsonElement forkchoiceState = default, JsonElement payloadAttributes = default) =>
        UpdateForkchoice(forkchoiceState, payloadAttributes, version: 3);

    [JsonRpcMethod("engine_getPayloadV3")]
    public object GetPayloadV3(JsonElement payloadId = default) => UnknownPayload(payloadId);

    /// <summary>No blob pool here: every blob is unavailable, so the answer is a null per requested hash.</summary>
    [JsonRpcMethod("engine_getBlobsV1")]
    public object?[] GetBlobsV1(JsonElement blobVersionedHashes = default) =>
        blobs.GetBlobsV1(ReadHashes(blobVersionedHashes, "blobVersionedHashes"));
}
