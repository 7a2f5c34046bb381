using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A fresh <c>@ethereumjs/client</c> 0.10.5 node: its own temp data dir, a geth-format genesis, single-node mode,
/// every port on 127.0.0.1 (devp2p too, see Fixtures/node/loopback.mjs), no discovery, Engine API with a JWT
/// secret. Disposing stops it by PID (SIGINT, then kill) and deletes the data dir.
/// </summary>
/// <remarks>The arguments are those of <c>clientArgs</c> in Fixtures/node/ethereumjs.mjs; keep the two in step.</remarks>
public sealed class EthereumJsNode : IAsyncDisposable
{
    /// <summary>Startup to "Client started successfully" takes ~2 s here; a loaded 2-core CI box gets a wide margin.</summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Starts on a port already taken are retried this often (each on fresh ports): a clash is rare, two in a row rarer.</summary>
    private const int StartAttempts = 3;

    private static readonly TimeSpan RpcTimeout = TimeSpan.FromSeconds(30);

    private readonly RpcClient _rpc;
    private readonly bool _keepDataDirectory;

    private EthereumJsNode(ProcessHandle process, string dataDirectory, string jwtSecretFile, string genesisFile, int rpcPort, int enginePort, int p2pPort, bool keepDataDirectory)
    {
        Process = process;
        DataDirectory = dataDirectory;
        JwtSecretFile = jwtSecretFile;
        GenesisFile = genesisFile;
        RpcUrl = new Uri($"http://127.0.0.1:{rpcPort}");
        EngineUrl = new Uri($"http://127.0.0.1:{enginePort}");
        P2pPort = p2pPort;
        _keepDataDirectory = keepDataDirectory;
        _rpc = new RpcClient(process.Name, RpcUrl, RpcTimeout);
    }

    public ProcessHandle Process { get; }

    public int Pid => Process.Pid;

    /// <summary>Public JSON-RPC (eth, net, web3, debug, ...), no JWT.</summary>
    public Uri RpcUrl { get; }

    /// <summary>Engine API, JWT-authenticated with <see cref="JwtSecretFile"/>.</summary>
    public Uri EngineUrl { get; }

    /// <summary>devp2p (RLPx TCP and discovery UDP) port on 127.0.0.1.</summary>
    public int P2pPort { get; }

    public string JwtSecretFile { get; }

    public string GenesisFile { get; }

    public string DataDirectory { get; }

    /// <summary>
    /// Starts a node and returns once its public RPC answers <c>eth_chainId</c> and, when it takes peers, its RLPx
    /// listener is up.
    /// </summary>
    /// <remarks>
    /// ethereumjs reports a port it cannot bind (<c>EADDRINUSE</c>) as a warning and still prints "Client started
    /// successfully": a devp2p node without a listener, which no dial ever reaches. The ports come from
    /// <see cref="FreePort"/>, free when probed; between the probe and the bind, any new connection on the machine may
    /// take one as its ephemeral source port (the probe range is the ephemeral range), which under a full parallel test
    /// run happens. Such a start is stopped and retried on fresh ports, at most <see cref="StartAttempts"/> times.
    /// </remarks>
    /// <param name="tooling">Node and the installed fixture packages.</param>
    /// <param name="name">Shown in diagnostics, e.g. "source" or "replica".</param>
    /// <param name="genesisFile">A geth-format genesis.json (Fixtures/node/genesis.json or one from a chain file).</param>
    /// <param name="jwtSecretFile">An existing secret file to use; null writes a fresh random one into the data dir.</param>
    /// <param name="startTimeout">Bound on each startup attempt; <see cref="DefaultStartTimeout"/> if null.</param>
    /// <param name="peering">devp2p peers: none by default (a single node that builds or replays a chain).</param>
    /// <param name="cancellationToken">Cancels the startup wait (the process is then stopped).</param>
    public static async Task<EthereumJsNode> StartAsync(
        NodeTooling tooling,
        string name,
        string genesisFile,
        string? jwtSecretFile = null,
        TimeSpan? startTimeout = null,
        EthereumJsPeering? peering = null,
        CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (node, clash) = await StartOnceAsync(tooling, name, genesisFile, jwtSecretFile, startTimeout ?? DefaultStartTimeout, peering ?? EthereumJsPeering.None, cancellationToken);
            if (clash is null)
            {
                return node;
            }

            var diagnostics = node.Process.Diagnostics();
            await node.DisposeAsync();
            if (attempt == StartAttempts)
            {
                throw new InvalidOperationException($"ethereumjs({name}) found a port taken on each of {StartAttempts} starts ({clash}).\n{diagnostics}");
            }
        }
    }

    /// <summary>One start; the clash is ethereumjs's EADDRINUSE line if it could not bind a port (the node is then half up).</summary>
    private static async Task<(EthereumJsNode Node, string? Clash)> StartOnceAsync(
        NodeTooling tooling, string name, string genesisFile, string? jwtSecretFile, TimeSpan timeout, EthereumJsPeering peering, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        var keep = Environment.GetEnvironmentVariable("E2E_KEEP_TEMP") == "1";
        var dataDirectory = Directory.CreateTempSubdirectory($"engineskeleton-ethjs-{name}-").FullName;
        if (jwtSecretFile is null)
        {
            jwtSecretFile = Path.Combine(dataDirectory, "jwtsecret");
            await File.WriteAllTextAsync(jwtSecretFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), cancellationToken);
        }

        var (rpcPort, enginePort, p2pPort) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        string[] arguments =
        [
            "--import", tooling.Script("loopback.mjs"),
            Path.Combine(tooling.FixtureDirectory, "node_modules", "@ethereumjs", "client", "dist", "esm", "bin", "cli.js"),
            "--gethGenesis", Path.GetFullPath(genesisFile),
            "--dataDir", Path.Combine(dataDirectory, "chain"),
            .. peering.Bootnode is null ? ["--isSingleNode"] : new[] { "--bootnodes", peering.Bootnode },
            "--discDns", "false", "--discV4", "false", "--maxPeers", Invariant(peering.MaxPeers),
            "--port", Invariant(p2pPort), "--extIP", "127.0.0.1",
            "--rpc", "--rpcAddr", "127.0.0.1", "--rpcPort", Invariant(rpcPort),
            "--rpcEngine", "--rpcEngineAddr", "127.0.0.1", "--rpcEnginePort", Invariant(enginePort),
            "--jwtSecret", jwtSecretFile,
            "--no-logFile", "--logLevel", "info", // "--logFile false" would log to a file named "false"
        ];
        var process = ProcessHandle.Start($"ethereumjs({name})", tooling.NodePath, arguments, tooling.FixtureDirectory);
        var node = new EthereumJsNode(process, dataDirectory, jwtSecretFile, genesisFile, rpcPort, enginePort, p2pPort, keep);
        try
        {
            var clock = Stopwatch.StartNew();
            await process.WaitForLineAsync(line => line.Contains("Client started successfully", StringComparison.Ordinal), timeout, cancellationToken);
            if (peering.MaxPeers > 0)
            {
                // On the RLPx listener's 'listening' event, which can come after the banner; or the bind failed.
                await process.WaitForLineAsync(line => line.Contains("Server listener up transport=rlpx", StringComparison.Ordinal) || IsClash(line), timeout - clock.Elapsed, cancellationToken);
            }

            if (process.RecentOutput().FirstOrDefault(IsClash) is { } clash)
            {
                return (node, clash);
            }

            // The banner comes before the HTTP servers have bound their ports (listen completes on a later tick).
            await process.WaitForPortAsync(rpcPort, timeout - clock.Elapsed, cancellationToken);
            await process.WaitForPortAsync(enginePort, timeout - clock.Elapsed, cancellationToken);
            await node.RpcAsync("eth_chainId", [], cancellationToken);
            return (node, null);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    private static bool IsClash(string line) => line.Contains("EADDRINUSE", StringComparison.Ordinal);

    /// <summary>One JSON-RPC call on the public port; a JSON-RPC error becomes an exception naming the node.</summary>
    public Task<JsonElement> RpcAsync(string method, object?[] parameters, CancellationToken cancellationToken = default) =>
        _rpc.CallAsync(method, parameters, cancellationToken);

    /// <summary><c>eth_blockNumber</c>.</summary>
    public Task<long> GetBlockNumberAsync(CancellationToken cancellationToken = default) => _rpc.GetBlockNumberAsync(cancellationToken);

    /// <summary>The node's enode URL (<c>admin_nodeInfo</c>), for another node's <see cref="EthereumJsPeering.Bootnode"/>.</summary>
    public async Task<string> GetEnodeAsync(CancellationToken cancellationToken = default) =>
        (await RpcAsync("admin_nodeInfo", [], cancellationToken)).GetProperty("enode").GetString()
        ?? throw new InvalidOperationException($"{Process.Name}: admin_nodeInfo has no enode");

    /// <summary>Hash of the canonical block at <paramref name="number"/>, or null if the node has none.</summary>
    public Task<string?> GetBlockHashAsync(long number, CancellationToken cancellationToken = default) => _rpc.GetBlockHashAsync(number, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Process.DisposeAsync();
        }
        finally
        {
            _rpc.Dispose();
            if (!_keepDataDirectory)
            {
                TryDelete(DataDirectory);
            }
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp dir is not worth failing a test over.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// How an ethereumjs fixture node meets others over devp2p (still loopback only, no discovery). A node with a
/// <see cref="Bootnode"/> is not single-node: it syncs from that peer (beacon sync, driven by forkchoiceUpdated).
/// </summary>
/// <param name="MaxPeers">0 refuses every peer.</param>
/// <param name="Bootnode">An enode URL on 127.0.0.1 (see <see cref="EthereumJsNode.GetEnodeAsync"/>).</param>
public sealed record EthereumJsPeering(int MaxPeers, string? Bootnode = null)
{
    public static readonly EthereumJsPeering None = new(0);
}
