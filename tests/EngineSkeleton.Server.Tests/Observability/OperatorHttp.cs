using System.Text.Json;
using EngineSkeleton.Server.Tests.Support;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>GETs of the public port's operator paths (/metrics, /health*, /status, the page) with their status code.</summary>
internal static class OperatorHttp
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<(int Status, string Body, string? ContentType)> Get(Uri port, string path)
    {
        using var response = await Http.GetAsync(new Uri(port, path));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString());
    }

    public static async Task<JsonElement> GetJson(Uri port, string path)
    {
        var (_, body, _) = await Get(port, path);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    /// <summary>skeleton_status' diagnostics over JSON-RPC, as (code, message) pairs.</summary>
    public static async Task<IReadOnlyList<(string Code, string Message)>> Diagnostics(TestNode node)
    {
        var status = (await node.Public("skeleton_status")).Result();
        return [.. status.GetProperty("diagnostics").EnumerateArray().Select(d => (d.GetProperty("code").GetString()!, d.GetProperty("message").GetString()!))];
    }
}
