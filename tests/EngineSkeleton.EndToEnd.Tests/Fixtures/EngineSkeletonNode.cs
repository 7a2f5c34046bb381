using System.Globalization;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Our server as a real child process: the EngineSkeleton.Server build the test references, run with `dotnet` and
/// the README's flags on free loopback ports, a fresh datadir, stopped by its PID.
/// </summary>
public sealed class EngineSkeletonNode : IAsyncDisposable
{
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);

    private readonly RpcClient _rpc;
    private RpcClient? _engine;

    private EngineSkeletonNode(ProcessHandle process, string dataDirectory, int enginePort, int httpPort)
    {
        Process = process;
        DataDirectory = dataDirectory;
        EngineUrl = new Uri($"http://127.0.0.1:{enginePort}/");
        RpcUrl = new Uri($"http://127.0.0.1:{httpPort}/");
        _rpc = new RpcClient(process.Name, RpcUrl, TimeSpan.FromSeconds(30));
    }

    public ProcessHandle Process { get; }

    public string DataDirectory { get; }

    public Uri EngineUrl { get; }

    public Uri RpcUrl { get; }

    /// <summary>The secret the server created (0600) in its datadir on first start.</summary>
    public string JwtSecretFile => Path.Combine(DataDirectory, "jwtsecret");

    public static async Task<EngineSkeletonNode> StartAsync(string genesisFile, string? dataDirectory = null, CancellationToken cancellationToken = default) =>
        await StartAsync(genesisFile, [], dataDirectory, cancellationToken);

    /// <summary>Starts the server with extra flags (e.g. <c>--sync.rpc URL</c>).</summary>
    public static async Task<EngineSkeletonNode> StartAsync(string genesisFile, IReadOnlyList<string> extraFlags, string? dataDirectory = null, CancellationToken cancellationToken = default)
    {
        var dataDir = dataDirectory ?? Directory.CreateTempSubdirectory("es-e2e-").FullName;
        var enginePort = FreePort.Next();
        var httpPort = FreePort.Next();
        var server = Path.Combine(AppContext.BaseDirectory, "EngineSkeleton.Server.dll");
        var process = ProcessHandle.Start(
            "engineskeleton",
            "dotnet",
            [server, "--datadir", dataDir, "--genesis", genesisFile, "--authrpc.port", Port(enginePort), "--http.port", Port(httpPort), "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover", .. extraFlags],
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

    public Task<JsonElement> RpcAsync(string method, object?[] parameters, CancellationToken cancellationToken = default) =>
        _rpc.CallAsync(method, parameters, cancellationToken);

    public Task<string?> GetBlockHashAsync(long number, CancellationToken cancellationToken = default) => _rpc.GetBlockHashAsync(number, cancellationToken);

    /// <summary>
    /// <c>engine_forkchoiceUpdatedV3(head)</c> on the Engine API port, signed with the node's own JWT secret (what a
    /// beacon node sends each slot); returns the payload status.
    /// </summary>
    public Task<string> ForkchoiceUpdatedAsync(string head, CancellationToken cancellationToken = default)
    {
        _engine ??= RpcClient.ForEngine(Process.Name + " engine", EngineUrl, JwtSecretFile, TimeSpan.FromSeconds(30));
        return _engine.ForkchoiceUpdatedAsync(head, cancellationToken);
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
            _rpc.Dispose();
            _engine?.Dispose();
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
}
