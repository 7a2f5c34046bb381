using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A node's JSON-RPC port, as the fixtures use it; a JSON-RPC error becomes an exception naming the node. With a JWT
/// secret (<see cref="ForEngine"/>) every request carries a fresh HS256 token, as a consensus client sends it.
/// </summary>
public sealed class RpcClient(string name, Uri url, TimeSpan timeout, byte[]? jwtSecret = null) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = timeout };
    private int _requestId;

    public Uri Url { get; } = url;

    /// <summary>
    /// A client for an Engine API port: the secret is read from <paramref name="jwtSecretFile"/> (64 hex characters,
    /// optionally 0x-prefixed), and each request is signed with <c>iat</c> = now (execution-apis authentication.md).
    /// </summary>
    public static RpcClient ForEngine(string name, Uri url, string jwtSecretFile, TimeSpan timeout) =>
        new(name, url, timeout, Convert.FromHexString(File.ReadAllText(jwtSecretFile).Trim().Replace("0x", string.Empty, StringComparison.OrdinalIgnoreCase)));

    public async Task<JsonElement> CallAsync(string method, object?[] parameters, CancellationToken cancellationToken = default)
    {
        var request = new { jsonrpc = "2.0", id = Interlocked.Increment(ref _requestId), method, @params = parameters };
        using var message = new HttpRequestMessage(HttpMethod.Post, Url) { Content = JsonContent.Create(request) };
        if (jwtSecret is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Jwt(jwtSecret));
        }
        using var response = await _http.SendAsync(message, cancellationToken);
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

    /// <summary><c>engine_forkchoiceUpdatedV3(head, head, head)</c> without payload attributes; returns the payload status.</summary>
    public async Task<string> ForkchoiceUpdatedAsync(string head, CancellationToken cancellationToken = default)
    {
        var state = new { headBlockHash = head, safeBlockHash = head, finalizedBlockHash = head };
        var result = await CallAsync("engine_forkchoiceUpdatedV3", [state, null], cancellationToken);
        return result.GetProperty("payloadStatus").GetProperty("status").GetString()!;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>An HS256 JWT whose only claim is <c>iat</c> = now: what the Engine API requires (±60 s).</summary>
    private static string Jwt(byte[] secret)
    {
        var signingInput = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray()) + "."
            + Base64Url(Encoding.UTF8.GetBytes($"{{\"iat\":{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}"));
        return signingInput + "." + Base64Url(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static long ParseQuantity(string? hex) =>
        hex is ['0', 'x', .. var digits] ? long.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
        : throw new FormatException($"Not a JSON-RPC quantity: '{hex}'");
}
