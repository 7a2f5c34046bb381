using System.Net;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Dialing;
using EngineSkeleton.Network.Discovery.Dns;
using EngineSkeleton.Network.Discovery.Enr;
using EngineSkeleton.Network.Discovery.V4;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.Discovery;

/// <summary>
/// Finds peers for the devp2p network by itself (docs/discovery.md): discv4 seeded from the bootnodes, EIP-1459 DNS
/// lists, and a dial scheduler that takes their candidates, drops those whose record names a fork id our chain does
/// not accept, and dials up to a third of --maxpeers. Started after the devp2p network (our record carries its TCP
/// port). Disabled (--nodiscover), it opens no socket and sends no query; it still makes our record.
/// </summary>
public sealed partial class PeerDiscovery : IAsyncDisposable
{
    private readonly PeerDiscoveryOptions _options;
    private readonly NodeKey _key;
    private readonly DevP2pNetwork _network;
    private readonly IEthChain _chain;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IDnsTxtResolver? _resolver;
    private readonly V4ServiceOptions? _v4Overrides;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly Lock _enrGate = new();
    private LocalEnr? _offlineEnr;
    private V4Service? _v4;
    private DialScheduler? _dialer;
    private DnsDiscovery? _dns;
    private int _disposed;

    public PeerDiscovery(PeerDiscoveryOptions options, NodeKey key, DevP2pNetwork network, IEthChain chain, TimeProvider time, ILoggerFactory loggers)
        : this(options, key, network, chain, time, loggers, resolver: null, v4Overrides: null)
    {
    }

    /// <summary>Tests give a resolver that answers from memory, and shorter discv4 timings.</summary>
    internal PeerDiscovery(PeerDiscoveryOptions options, NodeKey key, DevP2pNetwork network, IEthChain chain, TimeProvider time, ILoggerFactory loggers, IDnsTxtResolver? resolver, V4ServiceOptions? v4Overrides)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        options.Validate();
        _options = options;
        _key = key;
        _network = network;
        _chain = chain;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<PeerDiscovery>();
        _resolver = resolver;
        _v4Overrides = v4Overrides;
    }

    /// <summary>Our signed node record (EIP-778) in its text form, <c>enr:…</c>; valid after <see cref="StartAsync"/>.</summary>
    public string LocalRecord
    {
        get
        {
            if (_v4 is { } v4)
            {
                return v4.LocalRecord.ToString();
            }
            lock (_enrGate)
            {
                if (_offlineEnr is null)
                {
                    throw new InvalidOperationException("discovery has not started");
                }
                _offlineEnr.SetEth(CurrentForkId());
                return _offlineEnr.Record.ToString();
            }
        }
    }

    /// <summary>The UDP endpoint discv4 listens on; null when discovery is off.</summary>
    public IPEndPoint? UdpEndPoint => _v4?.LocalEndPoint;

    /// <summary>Nodes in the discv4 table (each proven by a Pong from its address).</summary>
    public int TableSize => _v4?.TableSize ?? 0;

    /// <summary>Dialable records found at the last sync of the DNS lists.</summary>
    public int DnsRecords => _dns?.Records ?? 0;

    /// <summary>Dials of discovered nodes running now.</summary>
    public int Dialing => _dialer?.Dialing ?? 0;

    /// <summary>
    /// How a connected peer was found: "discv4", "dns" or
    /// "bootnode" when discovery dialed it; null for peers that dialed us or were dialed as --bootnodes.
    /// </summary>
    public string? FoundBy(NodeId id) => Name(_dialer?.SourceOf(id));

    /// <summary>As <see cref="FoundBy(NodeId)"/>, by the short id <see cref="DevP2pPeerInfo.Id"/> gives.</summary>
    public string? FoundBy(string shortId) => Name(_dialer?.SourceOf(shortId));

    /// <summary>Whether discovery runs (false under --nodiscover).</summary>
    public bool Enabled => _options.Enabled;

    private static string? Name(DialSource? source) => source switch
    {
        DialSource.Discv4 => "discv4",
        DialSource.Dns => "dns",
        DialSource.Bootnode => "bootnode",
        _ => null,
    };

    /// <summary>Starts discv4, the DNS lists and the dialer; the devp2p network must have started.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var self = _network.Self;
        if (!_options.Enabled)
        {
            lock (_enrGate)
            {
                _offlineEnr = new LocalEnr(_key, (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds());
                _offlineEnr.SetIp(_options.ExternalIp ?? self.Address ?? IPAddress.Loopback);
                _offlineEnr.SetTcp(self.TcpPort);
            }
            Log.Disabled(_logger);
            return Task.CompletedTask;
        }
        var v4Options = (_v4Overrides ?? new V4ServiceOptions()) with
        {
            ListenAddress = _options.ListenAddress,
            Port = _options.Port ?? self.TcpPort,
            ExternalIp = _options.ExternalIp,
        };
        _v4 = new V4Service(_key, v4Options, self.TcpPort, CurrentForkId, _time, _loggers.CreateLogger<V4Service>());
        _v4.Start(_options.Bootnodes);
        var filter = new ForkFilter(_chain.Spec);
        _dialer = new DialScheduler(
            DialSchedulerOptions.For(_options.MaxPeers, _options.NetRestrict),
            _key.Id,
            (candidate, token) => _network.DialAsync(candidate.ToEnode(), token),
            forkId =>
            {
                var head = _chain.Head;
                return filter.Check(forkId, head.Number, head.Timestamp);
            },
            IsConnected,
            _time,
            _loggers.CreateLogger<DialScheduler>());
        _dialer.Start();
        var trees = _options.DnsTreeUrls;
        if (trees.Count > 0)
        {
            _dns = new DnsDiscovery(trees, _resolver ?? new DnsClientTxtResolver(TimeSpan.FromSeconds(5)), _loggers.CreateLogger<DnsDiscovery>());
            _tasks.Add(Task.Run(() => DnsLoopAsync(_stop.Token), CancellationToken.None));
        }
        _tasks.Add(Task.Run(() => PumpAsync(_v4, _dialer, _stop.Token), CancellationToken.None));
        _tasks.Add(Task.Run(() => LookupLoopAsync(_v4, _dialer, _stop.Token), CancellationToken.None));
        Log.Started(_logger, _options.Bootnodes.Count, trees.Count, _dialer is null ? 0 : DialSchedulerOptions.DialedShare(_options.MaxPeers));
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // The loops end with their sockets.
        }
        if (_dialer is not null)
        {
            await _dialer.DisposeAsync().ConfigureAwait(false);
        }
        if (_v4 is not null)
        {
            await _v4.DisposeAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    private ForkId CurrentForkId()
    {
        var head = _chain.Head;
        return ForkId.For(_chain.Spec, head.Number, head.Timestamp);
    }

    private bool IsConnected(NodeId id)
    {
        var shortId = id.ToShortString();
        return _network.Peers.Any(peer => peer.Id == shortId);
    }

    /// <summary>Proven discv4 nodes to the dialer.</summary>
    private static async Task PumpAsync(V4Service v4, DialScheduler dialer, CancellationToken ct)
    {
        try
        {
            await foreach (var candidate in v4.Found.ReadAllAsync(ct).ConfigureAwait(false))
            {
                dialer.Offer(candidate);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>A lookup toward our own id first (it fills the buckets near us, discv4.md), then random ones as the dialer needs.</summary>
    private async Task LookupLoopAsync(V4Service v4, DialScheduler dialer, CancellationToken ct)
    {
        var sinceRefresh = TimeSpan.Zero;
        var first = true;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (first || sinceRefresh >= _options.RefreshInterval)
                {
                    await v4.LookupAsync(_key.Id, ct).ConfigureAwait(false);
                    sinceRefresh = TimeSpan.Zero;
                    first = false;
                }
                else if (dialer.WantsCandidates || v4.TableSize == 0)
                {
                    await v4.LookupRandomAsync(ct).ConfigureAwait(false);
                }
                if (dialer.WantsCandidates)
                {
                    foreach (var candidate in v4.Candidates())
                    {
                        dialer.Offer(candidate);
                    }
                }
                await Task.Delay(_options.LookupInterval, _time, ct).ConfigureAwait(false);
                sinceRefresh += _options.LookupInterval;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
            {
                Log.LookupFailed(_logger, e.Message);
                try
                {
                    await Task.Delay(_options.LookupInterval, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task DnsLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _dns!.SyncAsync(candidate => _dialer!.Offer(candidate), ct).ConfigureAwait(false);
                await Task.Delay(_options.DnsInterval, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(960, LogLevel.Information, "Peer discovery started bootnodes={Bootnodes} dnslists={DnsLists} dialslots={DialSlots}")]
        public static partial void Started(ILogger logger, int bootnodes, int dnsLists, int dialSlots);

        [LoggerMessage(961, LogLevel.Information, "Peer discovery off (--nodiscover): only --bootnodes are dialed")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(962, LogLevel.Debug, "discv4 lookup failed reason={Reason}")]
        public static partial void LookupFailed(ILogger logger, string reason);
    }
}
