using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Engine;
using EngineSkeleton.Server.Engine.Bodies;
using EngineSkeleton.Server.Engine.Forkchoice;
using EngineSkeleton.Server.Engine.NewPayload;
using EngineSkeleton.Server.Eth;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Storage;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Checkpoint;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Server.Hosting;

/// <summary>
/// The composition root: configuration → chain → store → handlers → two Kestrel listeners (Engine API with JWT,
/// public read-only RPC). Built the same way by Program and by the integration tests.
/// </summary>
internal sealed partial class NodeHost : IAsyncDisposable
{
    private readonly SkeletonStore _skeletonStore;

    /// <summary>A checkpoint a fresh datadir must fetch before the node serves anything; null once the store has its anchor.</summary>
    private SyncCheckpoint? _pendingCheckpoint;

    /// <summary>12 s, a slot: how often our head is offered to devp2p peers.</summary>
    private static readonly TimeSpan HeadAnnouncementInterval = TimeSpan.FromSeconds(12);

    private ITimer? _headTimer;

    private NodeHost(WebApplication app, ChainStore store, SkeletonStore skeletonStore, ChainSetup chain, JwtSecret secret, string secretPath, int enginePort, int httpPort, RpcEndpoint engine, RpcEndpoint http, SyncCheckpoint? pendingCheckpoint, DevP2pNetwork devp2p)
    {
        DevP2p = devp2p;
        _skeletonStore = skeletonStore;
        _pendingCheckpoint = pendingCheckpoint;
        App = app;
        Store = store;
        Chain = chain;
        Secret = secret;
        SecretPath = secretPath;
        EnginePort = enginePort;
        HttpPort = httpPort;
        EngineEndpoint = engine;
        HttpEndpoint = http;
    }

    public WebApplication App { get; }

    public ChainStore Store { get; }

    public ChainSetup Chain { get; }

    public JwtSecret Secret { get; }

    public string SecretPath { get; }

    public int EnginePort { get; }

    public int HttpPort { get; }

    public RpcEndpoint EngineEndpoint { get; }

    public RpcEndpoint HttpEndpoint { get; }

    /// <summary>Completes once every --sync.rpc peer was contacted at startup (and one on another chain refused).</summary>
    internal Task RpcPeersContacted { get; private init; } = Task.CompletedTask;

    /// <summary>The devp2p transport: its listener starts with the node, after a fresh datadir's checkpoint is fetched.</summary>
    public DevP2pNetwork DevP2p { get; }

    /// <summary>Builds the node from command-line flags (and appsettings.json, environment). Throws <see cref="StartupException"/>.</summary>
    public static NodeHost Build(string[] args, TimeProvider? time = null, string? contentRoot = null)
    {
        var (flags, flagError) = CommandLine.Parse(args);
        if (flagError is not null)
        {
            throw new StartupException(flagError);
        }
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = contentRoot ?? Directory.GetCurrentDirectory(),
            // appsettings.json is read once, at startup (the options are bound here, never re-read). Watching it for
            // changes watches the whole content root, ./data included when run as README says: every write of the
            // stores woke the file watcher's thread (perf: ~8 % of the node's CPU in a 2,000,000-header sync).
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Configuration.AddEnvironmentVariables("ENGINESKELETON__");
        builder.Configuration.AddInMemoryCollection(flags);

        var node = Bind<NodeOptions>(builder.Configuration, "Node");
        var auth = Bind<AuthRpcOptions>(builder.Configuration, "AuthRpc");
        var http = Bind<HttpOptions>(builder.Configuration, "Http");
        var rpc = Bind<RpcOptions>(builder.Configuration, "Rpc");
        var sync = Bind<SyncOptions>(builder.Configuration, "Sync");
        var p2p = Bind<P2POptions>(builder.Configuration, "P2P");
        if (OptionChecks.Validate(node, auth, http, rpc, sync, p2p) is { } optionError)
        {
            throw new StartupException(optionError);
        }
        ConfigureLogging(builder, LogLevels.Parse(node.Verbosity)!.Value);

        ChainSetup chain;
        try
        {
            chain = ChainSetup.From(node);
        }
        catch (GenesisException e)
        {
            throw new StartupException(e.Message, e);
        }

        var dataDir = Path.GetFullPath(node.DataDir);
        var secretPath = Path.GetFullPath(auth.JwtSecret ?? Path.Combine(dataDir, "jwtsecret"));
        var loggerFactory = LoggerFactory.Create(l => l.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole(ConsoleFormat).SetMinimumLevel(LogLevels.Parse(node.Verbosity)!.Value));
        JwtSecret secret;
        try
        {
            Directory.CreateDirectory(dataDir);
            secret = JwtSecret.LoadOrCreate(secretPath, loggerFactory.CreateLogger<JwtSecret>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidDataException)
        {
            throw new StartupException($"JWT secret {secretPath}: {e.Message}", e);
        }

        var checkpoint = string.IsNullOrWhiteSpace(sync.Checkpoint) ? null : SyncCheckpoint.Parse(sync.Checkpoint, out _);
        ChainStore store;
        SyncCheckpoint? pendingCheckpoint = null;
        try
        {
            store = ChainStore.Open(Path.Combine(dataDir, "chain.db"));
        }
        catch (StoreException e)
        {
            throw new StartupException(e.Message, e);
        }
        try
        {
            if (checkpoint is null)
            {
                store.Initialize(chain.Anchor);
            }
            else
            {
                pendingCheckpoint = CheckpointAnchor.Initialize(store, checkpoint);
            }
        }
        catch (StoreException e)
        {
            store.Dispose();
            throw new StartupException(e.Message, e);
        }

        var enginePort = auth.Port == 0 ? FreePort(auth.Addr) : auth.Port;
        var httpPort = http.Port == 0 ? FreePort(http.Addr) : http.Port;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = rpc.MaxRequestBodyBytes;
            k.Listen(ParseAddress(auth.Addr), enginePort);
            k.Listen(ParseAddress(http.Addr), httpPort);
        });

        var services = builder.Services;
        if (time is not null)
        {
            services.AddSingleton(time);
        }
        else
        {
            services.AddSingleton(TimeProvider.System);
        }
        services.AddSingleton(chain.Spec);
        services.AddSingleton(store);
        services.AddSingleton(secret);
        services.AddSingleton<JwtValidator>();
        SkeletonStore skeletonStore;
        try
        {
            skeletonStore = SkeletonStore.OpenInDataDir(dataDir);
        }
        catch (StoreException e)
        {
            store.Dispose();
            throw new StartupException(e.Message, e);
        }
        services.AddSingleton(skeletonStore);
        services.AddSingleton<PeerSet>();
        services.AddSingleton(new BlockValidator(chain.Spec));
        services.AddSingleton<IBackfiller, Backfiller>();
        services.AddSingleton<IChainLink>(new ChainLink(store));
        services.AddSingleton<CheckpointFetcher>();
        services.AddSingleton<SkeletonSync>();
        services.AddSingleton<IBeaconSync>(sp => new BeaconSync(sp.GetRequiredService<SkeletonSync>(), sp.GetRequiredService<PeerSet>(),
            h => store.GetHeader(h)?.Number, () => store.HeadHeader.Number, h => sp.GetRequiredService<PendingHeaders>().Get(h)?.Number));
        services.AddSingleton<InvalidBlocks>();
        services.AddSingleton<PendingHeaders>();
        services.AddSingleton<EngineLocks>();
        services.AddSingleton<NewPayloadHandler>();
        services.AddSingleton<ForkchoiceUpdatedHandler>();
        services.AddSingleton<PayloadBodiesHandler>();
        services.AddSingleton<BlobsHandler>();
        services.AddSingleton<EngineRpcModule>();
        services.AddSingleton(LoadOpenRpc());
        services.AddSingleton<EthRpcModule>();
        var facts = new OperatorFacts(dataDir, sync.Rpc, p2p.BootnodeList.Count, $"http://{auth.Addr}:{enginePort}", secretPath, chain.Anchor.Header.Hash, chain.Spec.ChainId);
        AddObservability(services, facts);
        var nodeKey = NodeKeyFile.LoadOrCreate(p2p.NodeKey ?? Path.Combine(dataDir, "nodekey"), loggerFactory.CreateLogger("EngineSkeleton"));
        // Made by a factory, so the container owns and disposes it, after the network that resolved it.
        services.AddSingleton(_ => nodeKey);
        services.AddSingleton(sp => new DevP2pNetwork(
            p2p.ToNetworkOptions(),
            sp.GetRequiredService<NodeKey>(),
            new ChainStoreEthChain(store, chain.Spec),
            new SyncPeerSink(sp.GetRequiredService<SkeletonSync>(), sp.GetRequiredService<PeerSet>(), sp.GetRequiredService<NodeMetrics>()),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        // Peer discovery (docs/discovery.md): resolved after the network, so the container disposes it first.
        var discoveryOptions = p2p.ToDiscoveryOptions(string.IsNullOrWhiteSpace(node.Genesis) ? node.Network : null);
        services.AddSingleton(sp => new PeerDiscovery(
            discoveryOptions,
            sp.GetRequiredService<NodeKey>(),
            sp.GetRequiredService<DevP2pNetwork>(),
            new ChainStoreEthChain(store, chain.Spec),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new AdminRpcModule(sp.GetRequiredService<DevP2pNetwork>(), sp.GetRequiredService<PeerDiscovery>(), store, chain.Spec));

        var app = builder.Build();
        var skeleton = app.Services.GetRequiredService<SkeletonSync>();
        var peerHttp = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // each request is bounded by the peer's own pipeline
        // A node anchored at a checkpoint never asks for its peers' genesis (hardhat's block 0 differs from the
        // genesis.json it writes); the checkpoint fetch checks the anchor's hash instead.
        var peerOptions = RpcSyncPeerOptions.Default with { ExpectedGenesis = checkpoint is null ? chain.Anchor.Header.Hash : null, ExpectedChainId = chain.Spec.ChainId };
        var rpcPeers = new List<(RpcSyncPeer Peer, ISyncPeer Registered)>();
        foreach (var url in sync.Rpc)
        {
            var peer = new RpcSyncPeer(new Uri(url), peerHttp, peerOptions, time ?? TimeProvider.System, app.Services.GetRequiredService<ILogger<RpcSyncPeer>>());
            var measured = new MeasuredSyncPeer(peer, MeasuredSyncPeer.Rpc, app.Services.GetRequiredService<NodeMetrics>());
            rpcPeers.Add((peer, measured));
            skeleton.AddConfiguredPeer(measured);
        }
        app.Lifetime.ApplicationStopped.Register(peerHttp.Dispose);
        app.Lifetime.ApplicationStarted.Register(skeleton.Start);
        var contacted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStarted.Register(() => StartObservability(app, rpcPeers, contacted));
        var devp2p = app.Services.GetRequiredService<DevP2pNetwork>();
        app.UseStatusPage(httpPort);
        // The container disposes the loop (terminate, suspend the backfiller) when the host stops.
        var eth = app.Services.GetRequiredService<EthRpcModule>();
        var admin = app.Services.GetRequiredService<AdminRpcModule>();
        var engine = app.UseJsonRpc(
            new RpcEndpointOptions("engine", RequireJwt: true, rpc.MaxRequestBodyBytes) { Port = enginePort },
            [app.Services.GetRequiredService<EngineRpcModule>(), eth, admin],
            RpcJson.Options,
            app.Services.GetRequiredService<JwtValidator>());
        var readOnly = app.UseJsonRpc(
            new RpcEndpointOptions("http", RequireJwt: false, rpc.MaxRequestBodyBytes) { Port = httpPort },
            [eth, admin],
            RpcJson.Options);
        MapOperatorEndpoints(app, httpPort, eth);

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EngineSkeleton");
        Log.Starting(logger, chain.Spec.Name, chain.Spec.ChainId, chain.Anchor.Header.Hash, dataDir);
        if (checkpoint is not null)
        {
            Log.Checkpoint(logger, checkpoint.Number, checkpoint.Hash);
        }
        Log.TrustModel(logger);
        Log.Endpoints(logger, $"http://{auth.Addr}:{enginePort}", $"http://{http.Addr}:{httpPort}", secretPath);
        foreach (var url in sync.Rpc)
        {
            Log.RpcPeer(logger, url);
        }
        loggerFactory.Dispose();
        return new NodeHost(app, store, skeletonStore, chain, secret, secretPath, enginePort, httpPort, engine, readOnly, pendingCheckpoint, devp2p)
        {
            RpcPeersContacted = contacted.Task,
        };
    }

    /// <summary>
    /// Fetches the checkpoint block of a fresh datadir (if any) and makes it the chain's anchor, then starts both
    /// listeners. Throws <see cref="StartupException"/>.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_pendingCheckpoint is { } checkpoint)
        {
            await CheckpointAnchor.FetchAsync(App.Services, Store, checkpoint, cancellationToken).ConfigureAwait(false);
            _pendingCheckpoint = null;
        }
        try
        {
            await App.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new StartupException($"cannot listen: {e.Message}", e);
        }
        try
        {
            await DevP2p.StartAsync(cancellationToken).ConfigureAwait(false);
            StartHeadAnnouncements();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new StartupException($"cannot listen for devp2p peers on --port: {e.Message}", e);
        }
        try
        {
            await App.Services.GetRequiredService<PeerDiscovery>().StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new StartupException($"cannot listen for discovery on --discovery.port (UDP): {e.Message}", e);
        }
    }

    /// <summary>
    /// Tells the devp2p transport each slot where our head is, so eth/69 peers hear a BlockRangeUpdate as the backfill
    /// advances (it sends one only when the head moved 32 blocks or went back, as geth does).
    /// </summary>
    private void StartHeadAnnouncements()
    {
        var time = App.Services.GetRequiredService<TimeProvider>();
        _headTimer = time.CreateTimer(_ => DevP2p.HeadChanged(), null, HeadAnnouncementInterval, HeadAnnouncementInterval);
    }

    public async ValueTask DisposeAsync()
    {
        if (_headTimer is not null)
        {
            await _headTimer.DisposeAsync().ConfigureAwait(false);
        }
        try
        {
            await App.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await App.DisposeAsync().ConfigureAwait(false);
            _skeletonStore.Dispose();
            Store.Dispose();
        }
    }

    private static void MapOperatorEndpoints(WebApplication app, int httpPort, EthRpcModule eth)
    {
        app.MapNodeHealth(httpPort);
        app.MapGet("/status", () => Results.Json(eth.SkeletonStatus(), RpcJson.Options)).RequireHost($"*:{httpPort}");
        app.MapNodeMetrics(httpPort);
    }

    /// <summary>Metrics, diagnostics and health (docs/operations.md): the RPC endpoints report to the monitor they find here.</summary>
    private static void AddObservability(IServiceCollection services, OperatorFacts facts)
    {
        services.AddSingleton(facts);
        services.AddSingleton<NodeMetrics>();
        services.AddSingleton<EngineApiMonitor>();
        services.AddSingleton<IRpcObserver>(sp => sp.GetRequiredService<EngineApiMonitor>());
        services.AddSingleton<NodeDiagnostics>();
        services.AddSingleton<ScrapeGauges>();
        services.AddNodeHealthChecks();
    }

    /// <summary>
    /// Once the listeners are up: the gauges read at each scrape, the diagnostics' log, and each --sync.rpc peer
    /// contacted once, so one on another chain is refused now, with both genesis hashes, not when the first head comes.
    /// </summary>
    private static void StartObservability(WebApplication app, IReadOnlyList<(RpcSyncPeer Peer, ISyncPeer Registered)> rpcPeers, TaskCompletionSource contacted)
    {
        app.Services.GetRequiredService<ScrapeGauges>().Attach();
        app.Services.GetRequiredService<NodeDiagnostics>().Start();
        var peers = app.Services.GetRequiredService<PeerSet>();
        var diagnostics = app.Services.GetRequiredService<NodeDiagnostics>();
        var stopping = app.Lifetime.ApplicationStopping;
        var contacts = new List<Task>(rpcPeers.Count);
        foreach (var (peer, registered) in rpcPeers)
        {
            contacts.Add(Task.Run(async () =>
            {
                try
                {
                    await peer.CheckChainAsync(stopping).ConfigureAwait(false);
                }
                catch (PeerException e) when (e.Message.StartsWith(RpcSyncPeer.OtherChain, StringComparison.Ordinal))
                {
                    peers.Drop(registered, e.Message);
                }
                catch (PeerException e)
                {
                    // Not up yet, or unreachable: said, and the sync's first request to it contacts it again.
                    diagnostics.FirstContactFailed(registered.Id, e.Message);
                }
                catch (OperationCanceledException)
                {
                    // Stopping.
                }
            }, CancellationToken.None));
        }
        _ = Task.WhenAll(contacts).ContinueWith(_ => contacted.TrySetResult(), TaskScheduler.Default);
    }

    private static OpenRpcDocument LoadOpenRpc()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "openapi", OpenRpcDocument.FileName);
        try
        {
            return OpenRpcDocument.Load(path);
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            throw new StartupException($"OpenRPC document {path} cannot be read: {e.Message}", e);
        }
    }

    private static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            throw new StartupException($"configuration section {section}: {e.InnerException?.Message ?? e.Message}", e);
        }
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, LogLevel level)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(ConsoleFormat);
        builder.Logging.SetMinimumLevel(level);
        if (level > LogLevel.Trace)
        {
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }
    }

    private static void ConsoleFormat(Microsoft.Extensions.Logging.Console.SimpleConsoleFormatterOptions o)
    {
        o.SingleLine = true;
        o.TimestampFormat = "MM-dd|HH:mm:ss.fff ";
        o.UseUtcTimestamp = false;
    }

    private static IPAddress ParseAddress(string addr) => addr == "localhost" ? IPAddress.Loopback : IPAddress.Parse(addr);

    /// <summary>Port 0 asks for a free port; it is chosen here so the RPC endpoints can filter on it.</summary>
    private static int FreePort(string addr)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(ParseAddress(addr), 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Starting EngineSkeleton network={Network} chainid={ChainId} genesis={Genesis} datadir={DataDir}")]
        public static partial void Starting(ILogger logger, string network, ulong chainId, EngineSkeleton.Core.Primitives.Hash256 genesis, string dataDir);

        [LoggerMessage(2, LogLevel.Information, "Trust model: the beacon node is trusted for the head hash; blocks are checked without state (hash links, header rules, body roots); transactions are not executed and VALID means every stateless check passed; pre-merge blocks are anchored by hash links alone")]
        public static partial void TrustModel(ILogger logger);

        [LoggerMessage(3, LogLevel.Information, "Engine API (JWT) on {Engine}, public RPC on {Http}, JWT secret {Secret}")]
        public static partial void Endpoints(ILogger logger, string engine, string http, string secret);

        [LoggerMessage(4, LogLevel.Information, "Sync peer over JSON-RPC url={Url}")]
        public static partial void RpcPeer(ILogger logger, string url);

        [LoggerMessage(5, LogLevel.Information, "Anchored at checkpoint number={Number} hash={Hash}: history below it is neither fetched nor served")]
        public static partial void Checkpoint(ILogger logger, ulong number, EngineSkeleton.Core.Primitives.Hash256 hash);
    }
}
