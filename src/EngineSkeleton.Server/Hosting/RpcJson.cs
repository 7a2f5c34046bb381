using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EngineSkeleton.Server.Engine.Wire;

namespace EngineSkeleton.Server.Hosting;

/// <summary>Source-generated serialization for the Engine API's answers; null fields are written, not omitted.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PayloadStatusV1))]
[JsonSerializable(typeof(ForkchoiceUpdatedResponse))]
[JsonSerializable(typeof(ExecutionPayloadBodyV1?[]))]
[JsonSerializable(typeof(ClientVersionV1[]))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(object?[]))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class EngineJsonContext : JsonSerializerContext;

internal static class RpcJson
{
    /// <summary>The generated context first; reflection only for the read methods' dictionaries.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        TypeInfoResolver = JsonTypeInfoResolver.Combine(EngineJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };
}
