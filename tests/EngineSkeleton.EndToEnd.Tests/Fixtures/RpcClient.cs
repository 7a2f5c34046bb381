using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace EngineSkeleton.Tests.Fixtures;

/// <summary>A node's public JSON-RPC port, as the fixtures use it; a JSON-RPC error becomes an exception naming the node.</summary>
public sealed class RpcClient(string name, Uri url, TimeSpan timeout) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = timeout };
    private int _requestId;

    public Uri Url { get; } = url;

    public async Task<JsonElement> CallAsync(string method, object?[] parameters, CancellationToken cancellationToken = default)
    {
        var request = new { jsonrpc = "2.0", id = Interlocked.Increment(ref _requestId), method, @params = parameters };
        using var response = await _http.PostAsJsonAsync(Url, request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        if (body.RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{name} {method}: {error.GetRawText()}");
        }
        return body.RootElement.GetProperty("result").Clone();
    }

    /// <summary><c>eth_blockNumber</c>.</summary>
    public async Task<long> GetBlockNumberAsync(CancellationToken cancellationToken = default) =>
        ParseQuantity((await CallAsync("eth_blockNumber", [], cancellationToken)).GetString());

    /// <summary>Hash of the canonical block at <paramref name="number"/> (<c>eth_getBlockByNumber</c>), or null if the node has none.</summary>
    public async Task<string?> GetBlockHashAsync(long number, CancellationToken cancellationToken = default)
    {
        var block = await CallAsync("eth_getBlockByNumber", ["0x" + number.ToString("x", CultureInfo.InvariantCulture), false], cancellationToken);
        return block.ValueKind == JsonValueKind.Null ? null : block.GetProperty("hash").GetString();
    }

    public void Dispose() => _http.Dispose();

    internal static long ParseQuantity(string? hex) =>
        hex is ['0', 'x', .. var digits] ? long.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
        : throw new FormatException($"Not a JSON-RPC quantity: '{hex}'");
}
