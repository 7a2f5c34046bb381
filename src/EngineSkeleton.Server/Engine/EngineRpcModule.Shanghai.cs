using System.Text.Json;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Engine;

/// <summary>Shanghai (execution-apis src/engine/shanghai.md), with cancun.md's -38005 for Cancun payloads.</summary>
internal sealed partial class EngineRpcModule
{
    [JsonRpcMethod("engine_newPayloadV2")]
    public Task<PayloadStatusV1> NewPayloadV2(JsonElement executionPayload = default)
    {
        var payload = PayloadJson.Parse(executionPayload, PayloadShape.V1OrV2);
        var fork = PayloadFork(payload);
        if ((payload.Withdrawals is not null) != (fork >= Fork.Shanghai))
        {
            throw RpcException.InvalidParams(fork >= Fork.Shanghai
                ? "ExecutionPayloadV2 (with withdrawals) is required from Shanghai on"
                : "ExecutionPayloadV1 (no withdrawals) is required before Shanghai");
        }
        if (fork >= Fork.Cancun)
        {
            throw RpcException.UnsupportedFork($"payload timestamp {payload.Timestamp} is {fork}; use a later engine_newPayload");
        }
        return ImportPayload(payload, null, null, null, v1: false);
    }

    [JsonRpcMethod("engine_forkchoiceUpdatedV2")]
    public Task<ForkchoiceUpdatedResponse> ForkchoiceUpdatedV2(JsonElement forkchoiceState = default, JsonElement payloadAttributes = default) =>
        UpdateForkchoice(forkchoiceState, payloadAttributes, version: 2);

    [JsonRpcMethod("engine_getPayloadV2")]
    public object GetPayloadV2(JsonElement payloadId = default) => UnknownPayload(payloadId);

    [JsonRpcMethod("engine_getPayloadBodiesByHashV1")]
    public ExecutionPayloadBodyV1?[] GetPayloadBodiesByHashV1(JsonElement blockHashes = default) =>
        bodies.ByHash(ReadHashes(blockHashes, "blockHashes"));

    [JsonRpcMethod("engine_getPayloadBodiesByRangeV1")]
    public ExecutionPayloadBodyV1?[] GetPayloadBodiesByRangeV1(JsonElement start = default, JsonElement count = default) =>
        bodies.ByRange(Params.UInt64Value(start, "start"), Params.UInt64Value(count, "count"));
}
