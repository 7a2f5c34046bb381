using System.Text.Json;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Engine;

/// <summary>Prague (execution-apis src/engine/prague.md) and Osaka (osaka.md: newPayloadV4 serves Osaka too).</summary>
internal sealed partial class EngineRpcModule
{
    [JsonRpcMethod("engine_newPayloadV4")]
    public Task<PayloadStatusV1> NewPayloadV4(
        JsonElement executionPayload = default,
        JsonElement expectedBlobVersionedHashes = default,
        JsonElement parentBeaconBlockRoot = default,
        JsonElement executionRequests = default)
    {
        var payload = PayloadJson.Parse(executionPayload, PayloadShape.V3);
        var blobHashes = ReadHashes(expectedBlobVersionedHashes, "expectedBlobVersionedHashes");
        var beaconRoot = Params.HashValue(parentBeaconBlockRoot, "parentBeaconBlockRoot");
        var requests = ReadRequests(executionRequests);
        if (PayloadFork(payload) < Fork.Prague)
        {
            throw RpcException.UnsupportedFork($"payload timestamp {payload.Timestamp} is {PayloadFork(payload)}, before Prague");
        }
        return ImportPayload(payload, blobHashes, beaconRoot, requests, v1: false);
    }

    [JsonRpcMethod("engine_getPayloadV4")]
    public object GetPayloadV4(JsonElement payloadId = default) => UnknownPayload(payloadId);

    [JsonRpcMethod("engine_getPayloadV5")]
    public object GetPayloadV5(JsonElement payloadId = default) => UnknownPayload(payloadId);

    /// <summary>
    /// prague.md: each element is request_type ++ request_data with non-empty data, types strictly ascending
    /// (no duplicates); anything else, or null, is -32602.
    /// </summary>
    private static List<byte[]> ReadRequests(JsonElement element)
    {
        var array = Params.RequireArray(element, "executionRequests");
        var requests = new List<byte[]>(array.GetArrayLength());
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var request = Params.DataValue(item, $"executionRequests[{i}]");
            if (request.Length <= 1)
            {
                throw RpcException.InvalidParams($"executionRequests[{i}] has no request data");
            }
            if (requests.Count > 0 && request[0] <= requests[^1][0])
            {
                throw RpcException.InvalidParams($"executionRequests[{i}] type {request[0]} is not above the previous type {requests[^1][0]}");
            }
            requests.Add(request);
            i++;
        }
        return requests;
    }
}
