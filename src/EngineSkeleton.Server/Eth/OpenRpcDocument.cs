using System.Text.Json;

namespace EngineSkeleton.Server.Eth;

/// <summary>openapi/engine-skeleton.openrpc.json, served by rpc_discover and checked against the registered methods.</summary>
internal sealed class OpenRpcDocument(JsonElement document)
{
    public const string FileName = "engine-skeleton.openrpc.json";

    public JsonElement Document { get; } = document;

    public IReadOnlyList<string> MethodNames =>
        [.. Document.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];

    public static OpenRpcDocument Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return new OpenRpcDocument(doc.RootElement.Clone());
    }
}
