using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace EngineSkeleton.Tests.Fixtures;

/// <summary>
/// Our server as a real child process: the EngineSkeleton.Server build the test references, run with `dotnet` and
/// the README's flags on free loopback ports, a fresh datadir, stopped by its PID.
/// </summary>
public sealed class EngineSkeletonNode : IAsyncDisposable
{
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private int _requestId;

    private EngineSkeletonNode(ProcessHandle process, string dataDirectory, int enginePort, int httpPort)
    {
        Process = process;
        DataDirectory = dataDirectory;
        EngineUrl = new Uri($"http://127.0.0.1:{enginePort}/");
        RpcUrl = new Uri($"http://127.0.0.1:{httpPort}/");
    }

    public ProcessHandle Process { get; }

    public string DataDirectory { get; }

    public Uri EngineUrl { get; }

    public Uri RpcUrl { get; }

    /// <summary>The secret the server created (0600) in its datadir on first start.</summary>
    public string JwtSecretFile => Path.Combine(DataDirectory, "jwtsecret");

    public static async Task<EngineSkeletonNode> StartAsync(string genesisFile, string? dataDirectory = null, CancellationToken cancellationToken = default)
    {
        var dataDir = dataDirectory ?? Directory.CreateTempSubdirectory("es-e2e-").FullName;
        var enginePort = FreePort.Next();
        var httpPort = FreePort.Next();
        var server = Path.Combine(AppContext.BaseDirectory, "EngineSkeleton.Server.dll");
        var process = ProcessHandle.Start(
            "engineskeleton",
            "dotnet",
            [server, "--datadir", dataDir, "--genesis", genesisFile, "--authrpc.port", Port(enginePort), "--http.port", Port(httpPort)],
            workingDirectory: dataDir);
        var node = new EngineSkeletonNode(process, dataDir, enginePort, httpPort);
        try
        {
            await process.WaitForPortAsync(enginePort, DefaultStartTimeout, cancellationToken);
            await process.WaitForPortAsync(httpPort, DefaultStartTimeout, cancellationToken);
            await node.RpcAsync("eth_chainId", [], cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    public async Task<JsonElement> RpcAsync(string method, object?[] parameters, CancellationToken cancellationToken = default)
    {
        var request = new { jsonrpc = "2.0", id = Interlocked.Increment(ref _requestId), method, @params = parameters };
        using var response = await _http.PostAsJsonAsync(RpcUrl, request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        if (body.RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"engineskeleton {method}: {error.GetRawText()}");
        }
        return body.RootElement.GetProperty("result").Clone();
    }

    public async Task<string?> GetBlockHashAsync(long number, CancellationToken cancellationToken = default)
    {
        var block = await RpcAsync("eth_getBlockByNumber", [Quantity(number), false], cancellationToken);
        return block.ValueKind == JsonValueKind.Null ? null : block.GetProperty("hash").GetString();
    }

    public async Task<bool> HasBlockAsync(string hash, CancellationToken cancellationToken = default) =>
        (await RpcAsync("eth_getBlockByHash", [hash, false], cancellationToken)).ValueKind != JsonValueKind.Null;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Process.DisposeAsync();
        }
        finally
        {
            _http.Dispose();
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static string Quantity(long number) => "0x" + number.ToString("x", CultureInfo.InvariantCulture);
}
