using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Dialing;
using EngineSkeleton.Network.Discovery.Enr;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.Discovery.V4;

/// <summary>Counts of what the discv4 service received and did with it; a snapshot.</summary>
internal sealed record V4Counters(long Received, long Refused, long Unsolicited, long Unbonded, long Answered);

/// <summary>
/// discv4 over UDP (devp2p discv4.md, EIP-868): answers Ping, FindNode and ENRRequest, sends its own, and keeps the
/// Kademlia table. A node enters the table only once it has answered one of our Pings from its address (the endpoint
/// proof); FindNode and ENRRequest are answered only to a node whose endpoint proof stands (geth's checkBond), which
/// keeps a spoofed source from turning us into an amplifier. Replies are matched to our requests by sender id, IP and
/// the request's hash; anything else is unsolicited and dropped. Packets are decoded and handled one at a time on the
/// receive loop; what may wait (a Ping back, an ENRRequest) runs in tasks bounded by <see cref="V4ServiceOptions"/>.
/// Proven nodes are offered, with their record when they answer ENRRequest, on <see cref="Found"/>.
/// </summary>
internal sealed partial class V4Service : IAsyncDisposable
{
    /// <summary>Nodes asked for in a FindNode and taken from its Neighbors: Kademlia's k, geth's bucketSize.</summary>
    private const int ResultSize = NodeTable.BucketSize;

    /// <summary>Larger than any discv4 packet, so that an oversized datagram is seen as such, not cut to size.</summary>
    private const int ReceiveBufferSize = 2048;

    private readonly NodeKey _key;
    private readonly V4ServiceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<ForkId>? _forkId;
    private readonly Lock _tableGate = new();
    private readonly NodeTable _table;
    private readonly Dictionary<Hash256, EnrRecord> _records = [];
    private readonly Lock _enrGate = new();
    private readonly LocalEnr _enr;
    private readonly Lock _pendingGate = new();
    private readonly Dictionary<PendingKey, Pending> _pending = [];
    private readonly BondBook _pongsFrom;
    private readonly BondBook _pingsFrom;
    private readonly Channel<DialCandidate> _found = Channel.CreateBounded<DialCandidate>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly SemaphoreSlim _enrFetches = new(8, 8);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _tasksGate = new();
    private readonly List<Task> _tasks = [];
    private readonly HashSet<Hash256> _bootnodeIds = [];
    private IReadOnlyList<DiscoveryNode> _bootnodes = [];
    private Socket? _socket;
    private V4Endpoint _self;
    private int _inboundBonds;
    private long _received;
    private long _refused;
    private long _unsolicited;
    private long _unbonded;
    private long _answered;
    private int _disposed;

    public V4Service(NodeKey key, V4ServiceOptions options, int tcpPort, Func<ForkId>? forkId, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _key = key;
        _options = options;
        _time = time;
        _logger = logger;
        _forkId = forkId;
        _table = new NodeTable(Keccak256.Hash(key.Id.Bytes));
        _pongsFrom = new BondBook(options.MaxBonds);
        _pingsFrom = new BondBook(options.MaxBonds);
        // geth starts a fresh node database's sequence at the time in milliseconds, so a restarted node's record is newer.
        _enr = new LocalEnr(key, (ulong)time.GetUtcNow().ToUnixTimeMilliseconds());
        TcpPort = tcpPort;
    }

    public int TcpPort { get; }

    /// <summary>The bound UDP endpoint; valid after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("discv4 has not started"));

    /// <summary>Proven nodes, each offered once when it enters the table (and its record, if it sent one).</summary>
    public ChannelReader<DialCandidate> Found => _found.Reader;

    public int TableSize
    {
        get
        {
            lock (_tableGate)
            {
                return _table.Count;
            }
        }
    }

    public int PendingReplies
    {
        get
        {
            lock (_pendingGate)
            {
                return _pending.Count;
            }
        }
    }

    public int BondsRemembered => _pongsFrom.Count + _pingsFrom.Count;

    public V4Counters Counters => new(
        Interlocked.Read(ref _received), Interlocked.Read(ref _refused), Interlocked.Read(ref _unsolicited),
        Interlocked.Read(ref _unbonded), Interlocked.Read(ref _answered));

    /// <summary>Our signed record, its eth entry at the current fork id.</summary>
    public EnrRecord LocalRecord
    {
        get
        {
            lock (_enrGate)
            {
                if (_forkId is not null)
                {
                    _enr.SetEth(_forkId());
                }
                return _enr.Record;
            }
        }
    }

    /// <summary>Nodes in the table's buckets now.</summary>
    public IReadOnlyList<DiscoveryNode> TableNodes()
    {
        lock (_tableGate)
        {
            return _table.Closest(_table.Self, int.MaxValue);
        }
    }

    /// <summary>
    /// Every node of the table as a dial candidate, with its record when it sent one: what the dialer is offered
    /// again after each lookup, so that a node whose dial failed is tried again once its backoff has passed.
    /// </summary>
    public IReadOnlyList<DialCandidate> Candidates()
    {
        lock (_tableGate)
        {
            var candidates = new List<DialCandidate>();
            foreach (var node in _table.Closest(_table.Self, int.MaxValue))
            {
                var record = _records.GetValueOrDefault(node.Id);
                if (CandidateOf(node, record) is { } candidate)
                {
                    candidates.Add(candidate);
                }
            }
            return candidates;
        }
    }

    /// <summary>Binds the UDP socket and starts the receive and revalidation loops; <paramref name="bootnodes"/> seed lookups.</summary>
    public void Start(IReadOnlyList<Enode> bootnodes)
    {
        ArgumentNullException.ThrowIfNull(bootnodes);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_socket is not null)
        {
            throw new InvalidOperationException("discv4 is started once");
        }
        var socket = new Socket(_options.ListenAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(_options.ListenAddress, _options.Port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        var bound = (IPEndPoint)socket.LocalEndPoint!;
        var advertised = _options.ExternalIp
            ?? (bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : bound.Address);
        _self = new V4Endpoint(advertised, bound.Port, TcpPort);
        lock (_enrGate)
        {
            _enr.SetIp(advertised);
            _enr.SetUdp(bound.Port);
            _enr.SetTcp(TcpPort);
        }
        var seeds = new List<DiscoveryNode>();
        foreach (var enode in bootnodes)
        {
            if (enode.Id != _key.Id && enode.Address is { } address)
            {
                var node = DiscoveryNode.Of(enode.Id, address, enode.UdpPort, enode.TcpPort);
                seeds.Add(node);
                _bootnodeIds.Add(node.Id);
            }
        }
        _bootnodes = seeds;
        Log.Started(_logger, bound.ToString(), LocalRecord.ToString());
        Track(Task.Run(() => ReceiveLoopAsync(socket, _stop.Token), CancellationToken.None));
        Track(Task.Run(() => RevalidateLoopAsync(_stop.Token), CancellationToken.None));
    }

    /// <summary>
    /// Finds the nodes nearest to <paramref name="target"/> (a public key, or any 64 bytes): asks the nearest known
    /// ones, <see cref="V4ServiceOptions.Alpha"/> at a time, for their neighbours, until the 16 nearest have all been
    /// asked (discv4.md, Recursive Lookup). With an empty table it starts from the bootnodes. Every node asked is
    /// bonded with first, which puts it in the table.
    /// </summary>
    public async Task<IReadOnlyList<DiscoveryNode>> LookupAsync(NodeId target, CancellationToken ct)
    {
        var targetId = Keccak256.Hash(target.Bytes);
        List<DiscoveryNode> result;
        lock (_tableGate)
        {
            result = [.. _table.Closest(targetId, ResultSize)];
        }
        if (result.Count < ResultSize)
        {
            result.AddRange(_bootnodes.Where(seed => !result.Exists(n => n.Id == seed.Id)));
        }
        var seen = new HashSet<Hash256>(result.Select(n => n.Id)) { _table.Self };
        var asked = new HashSet<Hash256>();
        for (var round = 0; round < _options.MaxLookupRounds && !ct.IsCancellationRequested; round++)
        {
            result.Sort((a, b) => NodeDistance.Compare(targetId, a.Id, b.Id));
            if (result.Count > ResultSize)
            {
                result.RemoveRange(ResultSize, result.Count - ResultSize);
            }
            var batch = result.Where(n => !asked.Contains(n.Id)).Take(_options.Alpha).ToList();
            if (batch.Count == 0)
            {
                break;
            }
            foreach (var node in batch)
            {
                asked.Add(node.Id);
            }
            var answers = await Task.WhenAll(batch.Select(node => QueryAsync(node, target, ct))).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                if (answers[i] is null)
                {
                    result.Remove(batch[i]);
                    continue;
                }
                foreach (var found in answers[i]!)
                {
                    if (seen.Add(found.Id))
                    {
                        result.Add(found);
                    }
                }
            }
        }
        result.Sort((a, b) => NodeDistance.Compare(targetId, a.Id, b.Id));
        return result.Count > ResultSize ? result.GetRange(0, ResultSize) : result;
    }

    /// <summary>A lookup toward a random target: what fills the table with nodes all over the id space.</summary>
    public Task<IReadOnlyList<DiscoveryNode>> LookupRandomAsync(CancellationToken ct)
    {
        Span<byte> target = stackalloc byte[NodeId.Size];
        RandomNumberGenerator.Fill(target);
        return LookupAsync(new NodeId(target), ct);
    }

    /// <summary>Pings <paramref name="node"/>; true when its Pong came back in time (and it is now in the table).</summary>
    public async Task<bool> PingAsync(DiscoveryNode node, CancellationToken ct) => await SendPingAsync(node, ct).ConfigureAwait(false) is not null;

    /// <summary>EIP-868: bonds, then asks the node for its record; null when it does not answer (or is not a node that can).</summary>
    public async Task<EnrRecord?> RequestEnrAsync(DiscoveryNode node, CancellationToken ct)
    {
        // As geth's RequestENR: the node answers only once it holds our endpoint proof.
        if (!await EnsureBondAsync(node, ct).ConfigureAwait(false))
        {
            return null;
        }
        var packet = V4Codec.Encode(_key, new EnrRequestMessage(V4Codec.ExpirationFrom(_time)), out var hash);
        if (!TryRegister(new PendingKey(node.PublicKey, V4PacketType.EnrResponse, hash), node.Address, out var pending))
        {
            return null;
        }
        try
        {
            await SendAsync(packet, node.Address, node.UdpPort, ct).ConfigureAwait(false);
            var reply = await WaitAsync(pending, ct).ConfigureAwait(false);
            return (reply as EnrResponseMessage)?.Record;
        }
        finally
        {
            Unregister(pending);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        _found.Writer.TryComplete();
        Task[] tasks;
        lock (_tasksGate)
        {
            tasks = [.. _tasks];
        }
        try
        {
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Each loop ends with the socket; none is worth holding the shutdown for.
        }
        _stop.Dispose();
        _enrFetches.Dispose();
    }

    /// <summary>Bonds, then FindNode; the nodes of its Neighbors, or null when the node did not answer our Ping.</summary>
    private async Task<IReadOnlyList<DiscoveryNode>?> QueryAsync(DiscoveryNode node, NodeId target, CancellationToken ct)
    {
        if (!await EnsureBondAsync(node, ct).ConfigureAwait(false))
        {
            return null;
        }
        var packet = V4Codec.Encode(_key, new FindNodeMessage(target, V4Codec.ExpirationFrom(_time)), out _);
        if (!TryRegister(new PendingKey(node.PublicKey, V4PacketType.Neighbors, default), node.Address, out var pending))
        {
            return [];
        }
        try
        {
            await SendAsync(packet, node.Address, node.UdpPort, ct).ConfigureAwait(false);
            await WaitAsync(pending, ct).ConfigureAwait(false);
            lock (_pendingGate)
            {
                return [.. pending.Nodes.Select(n => DiscoveryNode.Of(n.Id, n.Endpoint.Address!, n.Endpoint.UdpPort, n.Endpoint.TcpPort))];
            }
        }
        finally
        {
            Unregister(pending);
        }
    }

    /// <summary>
    /// geth's ensureBond: a node answers our FindNode only once it holds an endpoint proof of ours, that is once it
    /// pinged us and had our Pong. If it has not pinged us lately we ping it; a node that does not know us pings back,
    /// and we wait that long for it.
    /// </summary>
    private async Task<bool> EnsureBondAsync(DiscoveryNode node, CancellationToken ct)
    {
        if (_pingsFrom.IsFresh(node.PublicKey, node.Address, _time.GetUtcNow(), _options.BondExpiration))
        {
            return true;
        }
        TryRegister(new PendingKey(node.PublicKey, V4PacketType.Ping, default), node.Address, out var pingBack);
        try
        {
            if (await SendPingAsync(node, ct).ConfigureAwait(false) is null)
            {
                return false;
            }
            if (pingBack is not null)
            {
                await WaitAsync(pingBack, ct).ConfigureAwait(false);
            }
            return true;
        }
        finally
        {
            if (pingBack is not null)
            {
                Unregister(pingBack);
            }
        }
    }

    /// <summary>Sends a Ping and waits for its Pong; a node that answers is proven and goes to the table.</summary>
    private async Task<PongMessage?> SendPingAsync(DiscoveryNode node, CancellationToken ct)
    {
        var ping = new PingMessage(PingMessage.CurrentVersion, _self, new V4Endpoint(node.Address, node.UdpPort, node.TcpPort), V4Codec.ExpirationFrom(_time), LocalRecord.Seq);
        var packet = V4Codec.Encode(_key, ping, out var hash);
        if (!TryRegister(new PendingKey(node.PublicKey, V4PacketType.Pong, hash), node.Address, out var pending))
        {
            return null;
        }
        try
        {
            await SendAsync(packet, node.Address, node.UdpPort, ct).ConfigureAwait(false);
            if (await WaitAsync(pending, ct).ConfigureAwait(false) is not PongMessage pong)
            {
                return null;
            }
            AddProven(node with { Seq = 0 }, pong.EnrSeq);
            return pong;
        }
        finally
        {
            Unregister(pending);
        }
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[ReceiveBufferSize];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || ct.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // An ICMP error for an earlier send, or a datagram larger than the buffer: neither stops the loop.
                Log.ReceiveFailed(_logger, e.SocketErrorCode.ToString());
                continue;
            }
            Interlocked.Increment(ref _received);
            var from = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                await HandleAsync(buffer.AsMemory(0, received.ReceivedBytes), from, ct).ConfigureAwait(false);
            }
            catch (DiscoveryException e)
            {
                Interlocked.Increment(ref _refused);
                Log.Refused(_logger, from.ToString(), e.Kind.ToString(), e.Message);
            }
            catch (SocketException e)
            {
                Log.SendFailed(_logger, from.ToString(), e.SocketErrorCode.ToString());
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> datagram, IPEndPoint from, CancellationToken ct)
    {
        var packet = V4Codec.Decode(datagram.Span, _time);
        if (packet.Sender == _key.Id)
        {
            throw new DiscoveryException(DiscoveryError.Malformed, "a packet signed with our own key");
        }
        var address = from.Address.IsIPv4MappedToIPv6 ? from.Address.MapToIPv4() : from.Address;
        var now = _time.GetUtcNow();
        switch (packet.Message)
        {
            case PingMessage ping:
                await HandlePingAsync(packet, ping, address, from.Port, now, ct).ConfigureAwait(false);
                break;
            case PongMessage pong:
                if (Complete(new PendingKey(packet.Sender, V4PacketType.Pong, pong.PingHash), address, pong))
                {
                    _pongsFrom.Record(packet.Sender, address, now);
                }
                break;
            case FindNodeMessage find:
                await HandleFindNodeAsync(packet, find, address, from.Port, now, ct).ConfigureAwait(false);
                break;
            case NeighborsMessage neighbors:
                HandleNeighbors(packet, neighbors, address);
                break;
            case EnrRequestMessage:
                if (!IsBonded(packet.Sender, address, now))
                {
                    Interlocked.Increment(ref _unbonded);
                    break;
                }
                Interlocked.Increment(ref _answered);
                await SendAsync(V4Codec.Encode(_key, new EnrResponseMessage(packet.Hash, LocalRecord), out _), address, from.Port, ct).ConfigureAwait(false);
                break;
            case EnrResponseMessage response:
                if (response.Record.PublicKey != packet.Sender)
                {
                    throw new DiscoveryException(DiscoveryError.BadSignature, "an ENRResponse carrying another node's record");
                }
                Complete(new PendingKey(packet.Sender, V4PacketType.EnrResponse, response.RequestHash), address, response);
                break;
        }
    }

    /// <summary>
    /// geth's handlePing: answer with a Pong to the address the packet came from (the TCP port is the one its <c>from</c>
    /// names); then, if it has not proven its endpoint to us lately, ping it back, and add it once it answers.
    /// </summary>
    private async Task HandlePingAsync(V4Packet packet, PingMessage ping, IPAddress address, int udpPort, DateTimeOffset now, CancellationToken ct)
    {
        var pong = new PongMessage(new V4Endpoint(address, udpPort, ping.From.TcpPort), packet.Hash, V4Codec.ExpirationFrom(_time), LocalRecord.Seq);
        await SendAsync(V4Codec.Encode(_key, pong, out _), address, udpPort, ct).ConfigureAwait(false);
        Interlocked.Increment(ref _answered);
        _pingsFrom.Record(packet.Sender, address, now);
        Complete(new PendingKey(packet.Sender, V4PacketType.Ping, default), address, ping);
        var node = DiscoveryNode.Of(packet.Sender, address, udpPort, ping.From.TcpPort);
        if (_pongsFrom.IsFresh(packet.Sender, address, now, _options.BondExpiration))
        {
            AddProven(node, ping.EnrSeq);
            return;
        }
        if (Interlocked.Increment(ref _inboundBonds) > _options.MaxInboundBonds)
        {
            Interlocked.Decrement(ref _inboundBonds);
            return;
        }
        Track(Task.Run(
            async () =>
            {
                try
                {
                    await SendPingAsync(node, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // Not bonded: the node stays out of the table.
                }
                finally
                {
                    Interlocked.Decrement(ref _inboundBonds);
                }
            },
            CancellationToken.None));
    }

    /// <summary>
    /// Answers a bonded node with the nodes of our table nearest the target, at most 16, in Neighbors packets of at
    /// most 12 (geth's maxNeighbors). A node is left out when the asker could not reach it (a LAN address for a WAN
    /// asker: geth's CheckRelayIP).
    /// </summary>
    private async Task HandleFindNodeAsync(V4Packet packet, FindNodeMessage find, IPAddress address, int udpPort, DateTimeOffset now, CancellationToken ct)
    {
        if (!IsBonded(packet.Sender, address, now))
        {
            Interlocked.Increment(ref _unbonded);
            return;
        }
        IReadOnlyList<DiscoveryNode> closest;
        lock (_tableGate)
        {
            closest = _table.Closest(Keccak256.Hash(find.Target.Bytes), ResultSize);
        }
        var nodes = closest.Where(n => CanRelay(address, n.Address)).Select(n => new V4Node(new V4Endpoint(n.Address, n.UdpPort, n.TcpPort), n.PublicKey)).ToList();
        Interlocked.Increment(ref _answered);
        var expiration = V4Codec.ExpirationFrom(_time);
        for (var i = 0; i < nodes.Count || i == 0; i += NeighborsMessage.MaxNodes)
        {
            var chunk = nodes.Skip(i).Take(NeighborsMessage.MaxNodes).ToList();
            await SendAsync(V4Codec.Encode(_key, new NeighborsMessage(chunk, expiration), out _), address, udpPort, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Neighbors count toward the FindNode they answer, up to 16 nodes; nodes with an unusable key or address are skipped.</summary>
    private void HandleNeighbors(V4Packet packet, NeighborsMessage neighbors, IPAddress address)
    {
        lock (_pendingGate)
        {
            if (!_pending.TryGetValue(new PendingKey(packet.Sender, V4PacketType.Neighbors, default), out var pending) || !pending.From.Equals(address))
            {
                Interlocked.Increment(ref _unsolicited);
                return;
            }
            foreach (var node in neighbors.Nodes)
            {
                if (pending.Nodes.Count >= ResultSize)
                {
                    break;
                }
                if (node.Endpoint.Address is { } nodeAddress && node.Endpoint.UdpPort != 0 && CanRelay(address, nodeAddress)
                    && node.Id != _key.Id && node.Id.IsValidPublicKey && !pending.Nodes.Exists(n => n.Id == node.Id))
                {
                    pending.Nodes.Add(node with { Endpoint = node.Endpoint with { Address = nodeAddress.IsIPv4MappedToIPv6 ? nodeAddress.MapToIPv4() : nodeAddress } });
                }
            }
            if (pending.Nodes.Count >= ResultSize)
            {
                pending.Done.TrySetResult(neighbors);
            }
        }
    }

    /// <summary>
    /// Every <see cref="V4ServiceOptions.RevalidateInterval"/>, the least recently seen node of a random non-empty bucket
    /// is pinged: an answer moves it to the front (and fetches its record if its sequence number grew), silence puts
    /// the newest replacement in its place.
    /// </summary>
    private async Task RevalidateLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.RevalidateInterval, _time, ct).ConfigureAwait(false);
                await RevalidateOnceAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One liveness check; false when the table is empty.</summary>
    internal async Task<bool> RevalidateOnceAsync(CancellationToken ct)
    {
        DiscoveryNode? node;
        lock (_tableGate)
        {
            var distances = Enumerable.Range(1, 256).Where(d => _table.BucketAt(d).Count > 0).ToList();
            node = distances.Count == 0 ? null : _table.LeastRecentlySeen(distances[Random.Shared.Next(distances.Count)]);
        }
        if (node is null)
        {
            return false;
        }
        var pong = await SendPingAsync(node, ct).ConfigureAwait(false);
        lock (_tableGate)
        {
            if (pong is not null)
            {
                _table.Seen(node.Id);
                return true;
            }
            var replacement = _table.Stale(node.Id);
            _records.Remove(node.Id);
            Log.Dropped(_logger, node.PublicKey.ToShortString(), replacement?.PublicKey.ToShortString() ?? "none");
        }
        return true;
    }

    /// <summary>
    /// A node answered our Ping from its address: into the table; if it is new there (or its record moved on), its
    /// record is asked for and it is offered to the dialer.
    /// </summary>
    private void AddProven(DiscoveryNode node, ulong? announcedSeq)
    {
        TableAddResult result;
        bool fetch;
        lock (_tableGate)
        {
            result = _table.Add(node);
            fetch = result is TableAddResult.Added or TableAddResult.AddedAsReplacement
                || (announcedSeq is { } seq && _records.TryGetValue(node.Id, out var known) && seq > known.Seq);
        }
        if (!fetch)
        {
            return;
        }
        Log.Added(_logger, node.PublicKey.ToShortString(), $"{node.Address}:{node.UdpPort}", result.ToString());
        Track(Task.Run(() => OfferAsync(node, _stop.Token), CancellationToken.None));
    }

    private async Task OfferAsync(DiscoveryNode node, CancellationToken ct)
    {
        EnrRecord? record = null;
        try
        {
            await _enrFetches.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                record = await RequestEnrAsync(node, ct).ConfigureAwait(false);
            }
            finally
            {
                _enrFetches.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            if (ct.IsCancellationRequested)
            {
                return;
            }
        }
        if (record is not null)
        {
            lock (_tableGate)
            {
                if (_table.Contains(node.Id) || _records.Count < NodeTable.BucketSize * 256)
                {
                    _records[node.Id] = record;
                }
                _table.Add(node with { Seq = record.Seq });
            }
        }
        if (CandidateOf(node, record) is { } candidate)
        {
            _found.Writer.TryWrite(candidate);
        }
    }

    private DialCandidate? CandidateOf(DiscoveryNode node, EnrRecord? record)
    {
        var source = _bootnodeIds.Contains(node.Id) ? DialSource.Bootnode : DialSource.Discv4;
        var tcpPort = record?.Tcp ?? node.TcpPort;
        return tcpPort > 0 ? new DialCandidate(node.PublicKey, node.Address, tcpPort, record, source) : null;
    }

    /// <summary>geth's checkBond: the node answered one of our Pings from this address within the bond expiration.</summary>
    private bool IsBonded(NodeId id, IPAddress address, DateTimeOffset now) => _pongsFrom.IsFresh(id, address, now, _options.BondExpiration);

    /// <summary>geth's netutil.CheckRelayIP, in short: loopback only among loopback nodes, LAN only to LAN askers, never unspecified.</summary>
    internal static bool CanRelay(IPAddress sender, IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast) || IsMulticast(address))
        {
            return false;
        }
        if (IPAddress.IsLoopback(address) && !IPAddress.IsLoopback(sender))
        {
            return false;
        }
        return !NodeTable.IsLan(address) || NodeTable.IsLan(sender);
    }

    private static bool IsMulticast(IPAddress address) =>
        address.IsIPv6Multicast || (address.AddressFamily == AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xf0) == 0xe0);

    /// <summary>
    /// Registers a request's reply. Our signatures are deterministic, so the same request made twice in one second
    /// is the same packet with the same hash: the second caller shares the first one's wait. False when
    /// <see cref="V4ServiceOptions.MaxPendingReplies"/> are already waiting.
    /// </summary>
    private bool TryRegister(PendingKey key, IPAddress from, out Pending pending)
    {
        from = from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from;
        lock (_pendingGate)
        {
            if (_pending.TryGetValue(key, out var existing) && existing.From.Equals(from))
            {
                existing.Users++;
                pending = existing;
                return true;
            }
            if (_pending.Count >= _options.MaxPendingReplies || existing is not null)
            {
                pending = null!;
                return false;
            }
            pending = new Pending(key, from);
            _pending.Add(key, pending);
            return true;
        }
    }

    private void Unregister(Pending pending)
    {
        lock (_pendingGate)
        {
            if (--pending.Users == 0 && _pending.TryGetValue(pending.Key, out var current) && current == pending)
            {
                _pending.Remove(pending.Key);
            }
        }
    }

    /// <summary>Completes the request a reply answers; false (and counted) when none waits for it from that address.</summary>
    private bool Complete(PendingKey key, IPAddress from, V4Message message)
    {
        lock (_pendingGate)
        {
            if (_pending.TryGetValue(key, out var pending) && pending.From.Equals(from))
            {
                pending.Done.TrySetResult(message);
                return true;
            }
        }
        if (key.Type != V4PacketType.Ping)
        {
            Interlocked.Increment(ref _unsolicited);
        }
        return false;
    }

    /// <summary>The reply, or null after <see cref="V4ServiceOptions.ResponseTimeout"/>.</summary>
    private async Task<V4Message?> WaitAsync(Pending pending, CancellationToken ct)
    {
        try
        {
            return await pending.Done.Task.WaitAsync(_options.ResponseTimeout, _time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async Task SendAsync(byte[] packet, IPAddress address, int port, CancellationToken ct)
    {
        var socket = _socket ?? throw new InvalidOperationException("discv4 has not started");
        var target = socket.AddressFamily == AddressFamily.InterNetworkV6 && address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address;
        await socket.SendToAsync(packet, SocketFlags.None, new IPEndPoint(target, port), ct).ConfigureAwait(false);
    }

    private void Track(Task task)
    {
        lock (_tasksGate)
        {
            if (_tasks.Count > 64)
            {
                _tasks.RemoveAll(t => t.IsCompleted);
            }
            _tasks.Add(task);
        }
    }

    private readonly record struct PendingKey(NodeId From, byte Type, Hash256 Token);

    private sealed class Pending(PendingKey key, IPAddress from)
    {
        public PendingKey Key { get; } = key;

        public IPAddress From { get; } = from;

        public TaskCompletionSource<V4Message> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Callers waiting on it; guarded by the pending lock.</summary>
        public int Users { get; set; } = 1;

        /// <summary>Neighbors received so far (FindNode only); guarded by the pending lock.</summary>
        public List<V4Node> Nodes { get; } = [];
    }

    private static partial class Log
    {
        [LoggerMessage(900, LogLevel.Information, "Started discv4 udp={Endpoint} enr={Enr}")]
        public static partial void Started(ILogger logger, string endpoint, string enr);

        [LoggerMessage(901, LogLevel.Trace, "discv4 packet refused from={From} kind={Kind} reason={Reason}")]
        public static partial void Refused(ILogger logger, string from, string kind, string reason);

        [LoggerMessage(902, LogLevel.Debug, "discv4 receive failed error={Error}")]
        public static partial void ReceiveFailed(ILogger logger, string error);

        [LoggerMessage(903, LogLevel.Debug, "discv4 send failed to={To} error={Error}")]
        public static partial void SendFailed(ILogger logger, string to, string error);

        [LoggerMessage(904, LogLevel.Debug, "discv4 node added id={Id} addr={Address} result={Result}")]
        public static partial void Added(ILogger logger, string id, string address, string result);

        [LoggerMessage(905, LogLevel.Debug, "discv4 node dropped after a failed liveness check id={Id} replacement={Replacement}")]
        public static partial void Dropped(ILogger logger, string id, string replacement);
    }
}
