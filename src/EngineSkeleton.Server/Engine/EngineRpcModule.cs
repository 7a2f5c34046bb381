using System.Reflection;
using System.Text.Json;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Payloads;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Engine.Bodies;
using EngineSkeleton.Server.Engine.Forkchoice;
using EngineSkeleton.Server.Engine.NewPayload;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Engine;

/// <summary>
/// The engine_ namespace on the authenticated port. Each method is a few lines: shape (-32602) before fork (-38005),
/// then the bounded lock, then the handler. Split by fork into partial files, as the execution-apis specs are.
/// Parameters arrive as raw JSON so that absent and null are told apart from malformed (Params).
/// </summary>
internal sealed partial class EngineRpcModule(
    ChainSpec spec,
    NewPayloadHandler newPayload,
    ForkchoiceUpdatedHandler forkchoice,
    PayloadBodiesHandler bodies,
    BlobsHandler blobs,
    EngineLocks locks)
{
    /// <summary>Every engine_ method served, but engine_exchangeCapabilities itself (identification spec).</summary>
    public static IReadOnlyList<string> Capabilities { get; } =
    [
        .. typeof(EngineRpcModule).GetMethods()
            .Select(m => m.GetCustomAttribute<JsonRpcMethodAttribute>()?.Name)
            .OfType<string>()
            .Where(name => name != "engine_exchangeCapabilities")
            .Order(StringComparer.Ordinal),
    ];

    [JsonRpcMethod("engine_exchangeCapabilities")]
    public IReadOnlyList<string> ExchangeCapabilities(JsonElement capabilities = default)
    {
        var list = Params.RequireArray(capabilities, "capabilities");
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw RpcException.InvalidParams($"capabilities[{i}] is not a string");
            }
            i++;
        }
        return Capabilities;
    }

    [JsonRpcMethod("engine_getClientVersionV1")]
    public ClientVersionV1[] GetClientVersionV1(JsonElement clientVersion = default)
    {
        var caller = Params.RequireObject(clientVersion, "clientVersion");
        foreach (var field in (ReadOnlySpan<string>)["code", "name", "version", "commit"])
        {
            if (Params.Field(caller, field).ValueKind != JsonValueKind.String)
            {
                throw RpcException.InvalidParams($"clientVersion.{field} is missing or not a string");
            }
        }
        return [ClientIdentity.Version];
    }

    private Task<PayloadStatusV1> ImportPayload(
        ExecutionPayload payload, IReadOnlyList<Hash256>? blobHashes, Hash256? beaconRoot, IReadOnlyList<byte[]>? requests, bool v1) =>
        locks.WithNewPayloadLock(() => newPayload.Handle(payload, blobHashes, beaconRoot, requests, v1), PayloadStatusV1.Syncing);

    private Task<ForkchoiceUpdatedResponse> UpdateForkchoice(JsonElement state, JsonElement attributes, int version)
    {
        var parsed = ForkchoiceState.Parse(state);
        if (!Params.IsMissing(attributes) && attributes.ValueKind != JsonValueKind.Object)
        {
            throw RpcException.InvalidParams("payloadAttributes is neither an object nor null");
        }
        return locks.WithForkchoiceLock(
            () => forkchoice.HandleAsync(parsed, attributes, (a, head) => PayloadAttributesCheck.Validate(a, version, spec, head.Timestamp)),
            ForkchoiceUpdatedResponse.Syncing);
    }

    /// <summary>getPayload of any version: this node never builds, so every id is unknown (-38001) once well-formed.</summary>
    private static object UnknownPayload(JsonElement payloadId)
    {
        Params.Fixed(payloadId, "payloadId", 8);
        throw RpcException.UnknownPayload();
    }

    private Fork PayloadFork(ExecutionPayload payload) => spec.ForkAt(payload.Timestamp);

    private static List<Hash256> ReadHashes(JsonElement element, string name)
    {
        var array = Params.RequireArray(element, name);
        var hashes = new List<Hash256>(array.GetArrayLength());
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            hashes.Add(Params.HashValue(item, $"{name}[{i++}]"));
        }
        return hashes;
    }
}
