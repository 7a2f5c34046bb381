using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// The devp2p node: a TCP listener, a dialer for the static nodes, and the table of eth peers. Each connection runs
/// the RLPx handshake, Hello (eth/69 and eth/68 offered, the highest shared taken), the checks geth makes after it
/// (not ourselves, not already connected, room left: p2p/server.go postHandshakeChecks), and the eth Status
/// exchange; a peer that passes goes to the sink and stays until either side disconnects.
/// </summary>
public sealed partial class DevP2pNetwork : IAsyncDisposable
{
    /// <summary>A BlockRangeUpdate goes out once our head has moved this many blocks since the last (geth eth/handler.go blockRangeState: 32).</summary>
    internal const ulong BlockRangeUpdateStep = 32;

    /// <summary>Misbehaving nodes remembered at once; past it the oldest half is forgotten (each cost a full handshake).</summary>
    private const int MaxPenalized = 1024;

    private readonly DevP2pOptions _options;
    private readonly NodeKey _key;
    private readonly IEthChain _chain;
    private readonly IDevP2pPeerSink _sink;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly RlpxOptions _rlpxOptions = new() { MaxMessageSize = EthLimits.MaxMessageSize };
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<NodeId, Slot> _slots = [];
    private readonly List<Task> _tasks = [];
    private readonly Dictionary<NodeId, long> _penalizedUntil = [];
    private readonly SemaphoreSlim _pendingInbound;
    private readonly InboundThrottle _throttle;
    private TcpListener? _listener;
    private Enode? _self;
    private BlockRange? _lastRangeSent;
    private int _disposed;

    public DevP2pNetwork(DevP2pOptions options, NodeKey key, IEthChain chain, IDevP2pPeerSink sink, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        options.Validate();
        _options = options;
        _key = key;
        _chain = chain;
        _sink = sink;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<DevP2pNetwork>();
        _pendingInbound = new SemaphoreSlim(options.MaxPendingPeers, options.MaxPendingPeers);
        _throttle = new InboundThrottle(options.InboundThrottleTime, options.ThrottleLan, time);
    }

    /// <summary>Our enode URL, with the port actually bound; valid after <see cref="StartAsync"/>.</summary>
    public Enode Self => _self ?? throw new InvalidOperationException("the devp2p network has not started");

    /// <summary>Whether <see cref="StartAsync"/> has bound the listener (and <see cref="Self"/> is known).</summary>
    public bool IsStarted => _self is not null;

    /// <summary>The eth peers whose Status was accepted, now.</summary>
    public IReadOnlyList<DevP2pPeerInfo> Peers
    {
        get
        {
            lock (_gate)
            {
                return [.. _slots.Values.Where(s => s.Joined).Select(s => s.Peer!.Info)];
            }
        }
    }

    /// <summary>Binds the listener and starts dialing the static nodes; returns once the listener is bound.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_listener is not null)
        {
            throw new InvalidOperationException("the devp2p network is started once");
        }
        var listener = new TcpListener(_options.ListenAddress, _options.Port);
        listener.Start();
        _listener = listener;
        var bound = (IPEndPoint)listener.LocalEndpoint;
        var advertised = _options.ExternalIp
            ?? (bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : bound.Address);
        _self = new Enode(_key.Id, advertised.ToString(), bound.Port, bound.Port);
        Log.Started(_logger, _self.ToString());
        lock (_gate)
        {
            _tasks.Add(Task.Run(() => AcceptLoopAsync(listener, _stop.Token), CancellationToken.None));
            foreach (var node in _options.StaticNodes)
            {
                if (node.Id == _key.Id)
                {
                    Log.SelfStatic(_logger, node.ToString());
                    continue;
                }
                _tasks.Add(Task.Run(() => StaticDialLoopAsync(node, _stop.Token), CancellationToken.None));
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Our head moved: eth/69 peers get a BlockRangeUpdate when it moved 32 blocks or more since the last one, or
    /// went back (geth eth/handler.go: not constantly, but at once on a rewind).
    /// </summary>
    public void HeadChanged()
    {
        var range = EthPeer.OurRange(_chain);
        EthPeer[] peers;
        lock (_gate)
        {
            if (_lastRangeSent is { } last && range.Latest >= last.Latest && range.Latest - last.Latest < BlockRangeUpdateStep)
            {
                return;
            }
            _lastRangeSent = range;
            peers = [.. _slots.Values.Where(s => s.Joined && s.Peer!.Version >= EthProtocol.Eth69).Select(s => s.Peer!)];
        }
        foreach (var peer in peers)
        {
            _ = peer.SendBlockRangeAsync(range);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        EthPeer[] peers;
        Task[] tasks;
        lock (_gate)
        {
            peers = [.. _slots.Values.Select(s => s.Peer).OfType<EthPeer>()];
            tasks = [.. _tasks];
        }
        foreach (var peer in peers)
        {
            await peer.CloseAsync(DisconnectReason.ClientQuitting, "closed: we are shutting down").ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Connection tasks end with their sockets; none is worth holding the shutdown for.
        }
        _stop.Dispose();
        _pendingInbound.Dispose();
    }

    /// <summary>
    /// Accepts while fewer than <see cref="DevP2pOptions.MaxPendingPeers"/> inbound handshakes run (geth's listenLoop
    /// takes a slot before Accept), and refuses an address seen within the throttle window before any handshake work.
    /// </summary>
    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                await _pendingInbound.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                socket = await listener.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException or SocketException && ct.IsCancellationRequested)
            {
                return; // stopped: the listener was closed (InvalidOperationException if before the accept began)
            }
            catch (SocketException e)
            {
                _pendingInbound.Release();
                Log.AcceptFailed(_logger, e.Message);
                continue;
            }
            var remote = socket.RemoteEndPoint?.ToString() ?? "?";
            if (socket.RemoteEndPoint is IPEndPoint endPoint && !_throttle.TryAdmit(endPoint.Address))
            {
                Log.InboundThrottled(_logger, remote, _options.InboundThrottleTime.TotalSeconds);
                socket.Dispose();
                _pendingInbound.Release();
                continue;
            }
            var pending = new PendingSlot(_pendingInbound);
            Track(Task.Run(() => RunConnectionAsync(socket, remote, dialed: null, ct, pending), CancellationToken.None));
        }
    }

    private async Task StaticDialLoopAsync(Enode node, CancellationToken ct)
    {
        var delay = _options.StaticRedialMin;
        while (!ct.IsCancellationRequested)
        {
            if (!IsConnected(node.Id))
            {
                var joined = await DialAsync(node, ct).ConfigureAwait(false);
                delay = joined ? _options.StaticRedialMin : Min(delay * 2, _options.StaticRedialMax);
                if (PenaltyLeft(node.Id) is { } penalty && penalty > delay)
                {
                    Log.RedialDeferred(_logger, node.Id.ToShortString(), penalty.TotalSeconds);
                    delay = penalty;
                }
            }
            try
            {
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Dials <paramref name="node"/> and runs the session to its end; true if the peer joined.</summary>
    internal async Task<bool> DialAsync(Enode node, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(_options.DialTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            await socket.ConnectAsync(node.Host, node.TcpPort, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            if (!ct.IsCancellationRequested)
            {
                Log.DialFailed(_logger, node.Id.ToShortString(), $"{node.Host}:{node.TcpPort}", e.Message);
            }
            return false;
        }
        return await RunConnectionAsync(socket, $"{node.Host}:{node.TcpPort}", node.Id, ct).ConfigureAwait(false);
    }

    /// <summary>One connection from socket to close; true if the peer joined. Never throws.</summary>
    private async Task<bool> RunConnectionAsync(Socket socket, string remote, NodeId? dialed, CancellationToken ct, PendingSlot? pending = null)
    {
        var inbound = dialed is null;
        var connection = new RlpxConnection(new NetworkStream(socket, ownsSocket: true), _key, _rlpxOptions, _time, _loggers.CreateLogger<RlpxConnection>());
        NodeId remoteId = default;
        Slot? slot = null;
        try
        {
            remoteId = inbound
                ? await connection.HandshakeAsRecipientAsync(ct).ConfigureAwait(false)
                : await connection.HandshakeAsInitiatorAsync(dialed!.Value, ct).ConfigureAwait(false);
            var hello = await connection.ExchangeHelloAsync(OurHello(), ct).ConfigureAwait(false);
            var version = SharedEthVersion(hello);
            if (version is null)
            {
                Penalize(remoteId);
                await RefuseAsync(connection, DisconnectReason.UselessPeer, remoteId, $"no eth version shared (they offer {string.Join(",", hello.Capabilities)})").ConfigureAwait(false);
                return false;
            }
            if (Admit(remoteId, inbound, out slot) is { } refusal)
            {
                await RefuseAsync(connection, refusal.Reason, remoteId, refusal.Words).ConfigureAwait(false);
                return false;
            }
            var peer = new EthPeer(connection, hello, version.Value, inbound, remote, _chain, _options, _time, _loggers.CreateLogger<EthPeer>());
            slot.Peer = peer;
            string? mismatch;
            var statusRefusal = DisconnectReason.SubprotocolReason;
            try
            {
                mismatch = await peer.ExchangeStatusAsync(ct).ConfigureAwait(false);
            }
            catch (EthMessageException e)
            {
                mismatch = $"bad Status: {e.Message}";
            }
            catch (RlpxProtocolException e)
            {
                // Garbage or a forged MAC where Status should be: a breach of RLPx, not an eth disagreement.
                mismatch = $"broke RLPx before Status: {e.Message}";
                statusRefusal = e.DisconnectReason;
            }
            if (mismatch is not null)
            {
                Penalize(remoteId);
                Log.Refused(_logger, remoteId.ToShortString(), statusRefusal.ToString(), mismatch);
                await peer.CloseAsync(statusRefusal, $"refused: {mismatch}").ConfigureAwait(false);
                return false;
            }
            pending?.Release();
            Join(slot);
            var reason = await peer.RunAsync().ConfigureAwait(false);
            if (peer.SentReason is DisconnectReason.BreachOfProtocol or DisconnectReason.UselessPeer or DisconnectReason.SubprotocolReason or DisconnectReason.PingTimeout)
            {
                Penalize(remoteId);
            }
            Leave(slot, reason);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (!ct.IsCancellationRequested)
            {
                Log.HandshakeFailed(_logger, inbound ? "inbound" : "outbound", remote, e.Message);
            }
            if (slot?.Peer is { } peer)
            {
                await peer.CloseAsync(null, $"handshake failed: {e.Message}").ConfigureAwait(false);
            }
            return false;
        }
        finally
        {
            pending?.Release();
            if (slot is not null)
            {
                lock (_gate)
                {
                    if (_slots.TryGetValue(remoteId, out var current) && current == slot)
                    {
                        _slots.Remove(remoteId);
                    }
                }
            }
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private (DisconnectReason Reason, string Words)? Admit(NodeId remoteId, bool inbound, out Slot slot)
    {
        slot = new Slot(inbound);
        if (remoteId == _key.Id)
        {
            return (DisconnectReason.ConnectedToSelf, "that is us");
        }
        lock (_gate)
        {
            if (_slots.ContainsKey(remoteId))
            {
                return (DisconnectReason.AlreadyConnected, "already connected");
            }
            if (_slots.Count >= _options.MaxPeers)
            {
                return (DisconnectReason.TooManyPeers, $"{_slots.Count} peers, the most we take");
            }
            if (inbound && _slots.Values.Count(s => s.Inbound) >= _options.MaxInboundPeers)
            {
                return (DisconnectReason.TooManyPeers, $"{_options.MaxInboundPeers} inbound peers, the most we take");
            }
            _slots.Add(remoteId, slot);
            return null;
        }
    }

    private void Join(Slot slot)
    {
        int joined;
        lock (_gate)
        {
            slot.Joined = true;
            joined = _slots.Values.Count(s => s.Joined);
        }
        var peer = slot.Peer!;
        Log.PeerJoined(_logger, peer.Id, peer.Hello.ClientId, peer.Version, peer.RemoteAddress, peer.Inbound);
        if (joined == 1)
        {
            Log.FirstPeer(_logger, peer.Id);
        }
        _sink.Joined(peer);
    }

    private void Leave(Slot slot, string reason)
    {
        int joined;
        lock (_gate)
        {
            slot.Joined = false;
            joined = _slots.Values.Count(s => s.Joined);
        }
        var peer = slot.Peer!;
        Log.PeerLeft(_logger, peer.Id, reason);
        if (joined == 0)
        {
            Log.NoPeers(_logger);
        }
        _sink.Left(peer, reason);
    }

    private async Task RefuseAsync(RlpxConnection connection, DisconnectReason reason, NodeId remoteId, string words)
    {
        Log.Refused(_logger, remoteId.ToShortString(), reason.ToString(), words);
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await connection.SendDisconnectAsync(reason, bound.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // Refused either way.
        }
    }

    private Hello OurHello() => new()
    {
        ClientId = _options.ClientId,
        Capabilities = [.. _options.EthVersions.Distinct().OrderBy(v => v).Select(v => new Capability(EthProtocol.Name, (uint)v))],
        ListenPort = (ulong)(_self?.TcpPort ?? 0),
        NodeId = _key.Id,
    };

    /// <summary>The highest eth version both Hellos offer, or null (rlpx.md: the highest shared version of a capability).</summary>
    private int? SharedEthVersion(Hello theirs)
    {
        int? best = null;
        foreach (var capability in theirs.Capabilities)
        {
            if (capability.Name == EthProtocol.Name && _options.EthVersions.Contains((int)capability.Version) && (best is null || capability.Version > best))
            {
                best = (int)capability.Version;
            }
        }
        return best;
    }

    /// <summary>Defers our next dial of <paramref name="id"/> by <see cref="DevP2pOptions.MisbehaviourRedial"/>.</summary>
    private void Penalize(NodeId id)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_penalizedUntil.Count >= MaxPenalized)
            {
                // Inbound strangers can fill the table too: the half whose penalties end first is forgotten.
                foreach (var old in _penalizedUntil.OrderBy(p => p.Value).Take(_penalizedUntil.Count / 2).Select(p => p.Key).ToArray())
                {
                    _penalizedUntil.Remove(old);
                }
            }
            _penalizedUntil[id] = now + (long)(_options.MisbehaviourRedial.TotalSeconds * _time.TimestampFrequency);
        }
    }

    /// <summary>How long until <paramref name="id"/> may be dialed again after misbehaving, or null if it may now.</summary>
    internal TimeSpan? PenaltyLeft(NodeId id)
    {
        lock (_gate)
        {
            if (!_penalizedUntil.TryGetValue(id, out var until))
            {
                return null;
            }
            var left = TimeSpan.FromSeconds((until - _time.GetTimestamp()) / (double)_time.TimestampFrequency);
            if (left > TimeSpan.Zero)
            {
                return left;
            }
            _penalizedUntil.Remove(id);
            return null;
        }
    }

    private bool IsConnected(NodeId id)
    {
        lock (_gate)
        {
            return _slots.ContainsKey(id);
        }
    }

    private void Track(Task task)
    {
        lock (_gate)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(task);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>An inbound connection's place among the pending handshakes, given back once (joined, refused or failed).</summary>
    private sealed class PendingSlot(SemaphoreSlim slots)
    {
        private int _released;

        public void Release()
        {
            try
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                {
                    slots.Release();
                }
            }
            catch (ObjectDisposedException)
            {
                // A handshake that outlived the network's shutdown wait: nothing is accepted any more.
            }
        }
    }

    /// <summary>A connection past Hello that holds its node id's place in the table.</summary>
    private sealed class Slot(bool inbound)
    {
        public bool Inbound { get; } = inbound;

        public EthPeer? Peer { get; set; }

        public bool Joined { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(810, LogLevel.Information, "Started P2P networking self={Self}")]
        public static partial void Started(ILogger logger, string self);

        [LoggerMessage(811, LogLevel.Information, "First eth peer connected id={Peer}")]
        public static partial void FirstPeer(ILogger logger, string peer);

        [LoggerMessage(812, LogLevel.Information, "No eth peers left")]
        public static partial void NoPeers(ILogger logger);

        [LoggerMessage(813, LogLevel.Debug, "eth peer joined id={Peer} client={Client} eth={Version} addr={Address} inbound={Inbound}")]
        public static partial void PeerJoined(ILogger logger, string peer, string client, int version, string address, bool inbound);

        [LoggerMessage(814, LogLevel.Debug, "eth peer left id={Peer} reason={Reason}")]
        public static partial void PeerLeft(ILogger logger, string peer, string reason);

        [LoggerMessage(815, LogLevel.Debug, "Refused peer id={Peer} disc={Disconnect} reason={Reason}")]
        public static partial void Refused(ILogger logger, string peer, string disconnect, string reason);

        [LoggerMessage(816, LogLevel.Debug, "Handshake failed direction={Direction} addr={Address} reason={Reason}")]
        public static partial void HandshakeFailed(ILogger logger, string direction, string address, string reason);

        [LoggerMessage(817, LogLevel.Debug, "Dial failed id={Peer} addr={Address} reason={Reason}")]
        public static partial void DialFailed(ILogger logger, string peer, string address, string reason);

        [LoggerMessage(818, LogLevel.Debug, "Accept failed reason={Reason}")]
        public static partial void AcceptFailed(ILogger logger, string reason);

        [LoggerMessage(819, LogLevel.Warning, "Static node is this node, not dialed enode={Enode}")]
        public static partial void SelfStatic(ILogger logger, string enode);

        [LoggerMessage(831, LogLevel.Debug, "Static node misbehaved, next dial deferred id={Peer} wait={Wait}s")]
        public static partial void RedialDeferred(ILogger logger, string peer, double wait);

        [LoggerMessage(830, LogLevel.Debug, "Rejected inbound connection addr={Address} reason=\"too many attempts\" window={Window}s")]
        public static partial void InboundThrottled(ILogger logger, string address, double window);
    }
}
