using System.Diagnostics;
using System.Globalization;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A <c>hardhat node</c> (hardhat 3, EDR) on Node 22: Fixtures/hardhat/hardhat.config.js (Osaka, no automine), bound
/// to 127.0.0.1 on a free port — hardhat would bind 0.0.0.0 inside a container without <c>--hostname</c>. Disposing
/// stops it by PID (SIGINT, then kill).
/// </summary>
public sealed class HardhatNode : IAsyncDisposable
{
    /// <summary>Startup (config load, EDR init) takes ~3 s here; a loaded 2-core CI box gets a wide margin.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly RpcClient _rpc;

    private HardhatNode(ProcessHandle process, int port)
    {
        Process = process;
        RpcUrl = new Uri($"http://127.0.0.1:{port}/");
        _rpc = new RpcClient(process.Name, RpcUrl, TimeSpan.FromSeconds(30));
    }

    public ProcessHandle Process { get; }

    /// <summary>hardhat's JSON-RPC (eth_, evm_, hardhat_; no debug_getRaw*).</summary>
    public Uri RpcUrl { get; }

    public RpcClient Rpc => _rpc;

    public static async Task<HardhatNode> StartAsync(HardhatTooling tooling, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        var port = FreePort.Next();
        var process = ProcessHandle.Start(
            "hardhat",
            tooling.Node22Path,
            [tooling.HardhatCli, "node", "--hostname", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture)],
            tooling.FixtureDirectory,
            tooling.Environment());
        var node = new HardhatNode(process, port);
        try
        {
            var clock = Stopwatch.StartNew();
            await process.WaitForLineAsync(line => line.Contains("Started HTTP and WebSocket JSON-RPC server", StringComparison.Ordinal), StartTimeout, cancellationToken);
            await process.WaitForPortAsync(port, StartTimeout - clock.Elapsed, cancellationToken);
            await node._rpc.CallAsync("eth_chainId", [], cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Process.DisposeAsync();
        }
        finally
        {
            _rpc.Dispose();
        }
    }
}
