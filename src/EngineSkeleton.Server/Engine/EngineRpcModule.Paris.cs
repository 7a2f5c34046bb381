using System.Text.Json;
using EngineSkeleton.Server.Engine.Wire;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Engine;

/// <summary>Paris (execution-apis src/engine/paris.md).</summary>
internal sealed partial class EngineRpcModule
{
    [JsonRpcMethod("engine_newPayloadV1")]
    public Task<PayloadStatusV1> NewPayloadV1(JsonElement executionPayload = default) =>
        ImportPayload(PayloadJson.Parse(executionPayload, PayloadShape.V1), null, null, null, v1: true);

    [JsonRpcMethod("engine_forkchoiceUpdatedV1")]
    public Task<ForkchoiceUpdatedResponse> ForkchoiceUpdatedV1(JsonElement forkchoiceState = default, JsonElement payloadAttributes = default) =>
        UpdateForkchoice(forkchoiceState, payloadAttributes, version: 1);

    [JsonRpcMethod("engine_getPayloadV1")]
    public object GetPayloadV1(JsonElement payloadId = default) => UnknownPayload(payloadId);
}
