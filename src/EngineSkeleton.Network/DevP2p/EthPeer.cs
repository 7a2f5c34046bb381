using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Sync.Peers;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// One eth session over an RLPx connection past Hello: the Status exchange, then one read loop that answers the
/// peer's queries from <see cref="IEthChain"/>, matches its answers to our requests by request id, and pings it;
/// and the <see cref="ISyncPeer"/> the sync asks. Everything read is untrusted: decoding is bounded by the eth
/// codecs, our requests in flight by <see cref="DevP2pOptions.MaxPendingRequests"/>, stray answers by
/// <see cref="DevP2pOptions.MaxStrayAnswers"/>. The first failure closes the session: a Disconnect with the reason
/// goes out where the connection still allows, every pending and later call throws <see cref="PeerException"/>.
/// </summary>
internal sealed partial class EthPeer : ISyncPeer
{
    private readonly RlpxConnection _connection;
    private readonly IEthChain _chain;
    private readonly DevP2pOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, PendingRequest> _pending = new();
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRequestId = Random.Shared.NextInt64(1, long.MaxValue / 2);
    private long _lastReceived;
    private int _strays;
    private int _closing;
    private volatile string? _closeReason;
    private DisconnectReason? _sentReason;
    private volatile StrongBox<BlockRange>? _range;

    public EthPeer(
        RlpxConnection connection, Hello hello, int version, bool inbound, string remoteAddress, IEthChain chain, DevP2pOptions options,
        TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _chain = chain;
        _options = options;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(options.MaxPendingRequests, options.MaxPendingRequests);
        Version = version;
        Inbound = inbound;
        RemoteAddress = remoteAddress;
        Hello = hello;
        NodeId = connection.RemoteId;
        Id = NodeId.ToShortString();
        _lastReceived = time.GetTimestamp();
    }

    public string Id { get; }

    /// <summary>
    /// Three requests out at once: the session matches answers by request id and the other side answers in order, so
    /// the next requests are served while an answer is checked and written here, and the link never idles between
    /// them. Measured against two (docs/peers.md, Requests in flight): the devp2p skeleton sync's rate went from 0.78
    /// to 0.84–0.85 of the in-process peer's.
    /// </summary>
    public int MaxRequests => 3;

    public NodeId NodeId { get; }

    public int Version { get; }

    public bool Inbound { get; }

    public string RemoteAddress { get; }

    public Hello Hello { get; }

    /// <summary>The peer's served range (eth/69), as its Status and BlockRangeUpdates said; null on eth/68.</summary>
    public BlockRange? Range => _range?.Value;

    /// <summary>The reason our Disconnect gave, if we closed the session with one; read after <see cref="Closed"/>.</summary>
    public DisconnectReason? SentReason => _sentReason;

    /// <summary>Completes with the reason, in words, once the session is closed (by either side).</summary>
    public Task<string> Closed => _closed.Task;

    public DevP2pPeerInfo Info => new(Id, Hello.ClientId, Version, RemoteAddress, Inbound, Range?.Earliest, Range?.Latest);

    private ulong Offset => P2pMessageCodes.BaseProtocolLength;

    /// <summary>
    /// Sends our Status and reads theirs (answering a Ping meanwhile) within <see cref="DevP2pOptions.StatusTimeout"/>.
    /// Returns null when compatible, else the mismatch in words; throws for transport failures and malformed input.
    /// </summary>
    public async Task<string?> ExchangeStatusAsync(CancellationToken cancellationToken)
    {
        var head = _chain.Head;
        var ours = OurStatus(_chain, Version);
        using var timeout = new CancellationTokenSource(_options.StatusTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await SendAsync(ours, linked.Token).ConfigureAwait(false);
            while (true)
            {
                var message = await _connection.ReadMessageAsync(linked.Token).ConfigureAwait(false);
                switch (message.Code)
                {
                    case P2pMessageCodes.Ping:
                        await _connection.SendPongAsync(linked.Token).ConfigureAwait(false);
                        continue;
                    case P2pMessageCodes.Pong:
                        continue;
                    case P2pMessageCodes.Disconnect:
                        throw new RlpxDisconnectedException(P2pMessages.DecodeDisconnect(message.Payload.Span));
                    case var code when code == Offset + EthMessageCode.Status:
                        var theirs = StatusMessage.Decode(Version, message.Payload.Span);
                        var check = StatusCheck.Compare(ours, theirs, new ForkFilter(_chain.Spec), head.Number, head.Timestamp);
                        if (!check.Compatible)
                        {
                            return check.ToString();
                        }
                        if (theirs is StatusMessage69 status69)
                        {
                            _range = new StrongBox<BlockRange>(status69.Range);
                        }
                        return null;
                    default:
                        throw new EthMessageException($"eth Status expected first, got message code 0x{message.Code:x2}");
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no eth Status within {_options.StatusTimeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Our Status for <paramref name="version"/>: eth/68 with td and head hash, eth/69 with our served range.</summary>
    public static StatusMessage OurStatus(IEthChain chain, int version)
    {
        var spec = chain.Spec;
        var head = chain.Head;
        var forkId = ForkId.For(spec, head.Number, head.Timestamp);
        return version == EthProtocol.Eth68
            ? new StatusMessage68((uint)version, spec.ChainId, chain.HeadTotalDifficulty, head.Hash, spec.GenesisHash, forkId)
            : new StatusMessage69((uint)version, spec.ChainId, spec.GenesisHash, forkId, OurRange(chain));
    }

    public static BlockRange OurRange(IEthChain chain)
    {
        var head = chain.Head;
        return new BlockRange(Math.Min(chain.Earliest, head.Number), head.Number, head.Hash);
    }

    /// <summary>Runs the read loop and the pinger until the session closes; returns the reason in words.</summary>
    public async Task<string> RunAsync()
    {
        var pinger = PingLoopAsync(_stop.Token);
        try
        {
            await ReadLoopAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await CloseAsync(Classify(e, out var words), words).ConfigureAwait(false);
        }
        await CloseAsync(null, "session ended").ConfigureAwait(false);
        await pinger.ConfigureAwait(false);
        return await _closed.Task.ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ThrowIfClosed();
        if (count == 0 || Range is { } range && origin > range.Latest)
        {
            // The peer said it holds nothing that high: an empty answer at once lets the sync give the task to another.
            return [];
        }
        var amount = Math.Min(count, EthLimits.MaxHeaders);
        var id = NextRequestId();
        var answer = await RequestAsync<BlockHeadersMessage>(
            GetBlockHeadersMessage.Request(id, HeaderOrigin.ByNumber(origin), amount, 0, reverse: true), EthMessageCode.BlockHeaders, amount, cancellationToken)
            .ConfigureAwait(false);
        // The link check below reads every hash: take them four at a time (as the sync would next) rather than one by one.
        BlockHeader.HashAll(answer.Headers);
        if (UnlinkedAt(answer.Headers, origin) is { } problem)
        {
            await MisbehavedAsync($"answered headers from #{origin} down that do not link: {problem}").ConfigureAwait(false);
        }
        return answer.Headers;
    }

    /// <summary>
    /// Where a reverse answer from <paramref name="origin"/> breaks: each header numbered one below the last and its
    /// hash the last one's parent. What a peer sends in one answer must hold together whatever chain it is on (reth's
    /// reverse downloader checks the same of every response); whether it links to ours is the sync's to judge.
    /// </summary>
    internal static string? UnlinkedAt(IReadOnlyList<BlockHeader> headers, ulong origin)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            if (headers[i].Number != origin - (ulong)i)
            {
                return $"header {i} is #{headers[i].Number}, expected #{origin - (ulong)i}";
            }
            if (i > 0 && headers[i - 1].ParentHash != headers[i].Hash)
            {
                return $"#{headers[i - 1].Number}'s parent is {headers[i - 1].ParentHash}, #{headers[i].Number} is {headers[i].Hash}";
            }
        }
        return null;
    }

    /// <summary>
    /// The peer answered what no honest peer sends: disconnected as geth's downloader drops a peer (handler.go removePeer:
    /// UselessPeer), and the call fails with <see cref="PeerException"/> so the sync drops it too.
    /// </summary>
    private async Task MisbehavedAsync(string words)
    {
        await CloseAsync(DisconnectReason.UselessPeer, $"useless: {words}").ConfigureAwait(false);
        throw new PeerException($"peer {Id} {words}");
    }

    public async Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        var id = NextRequestId();
        var answer = await RequestAsync<BlockHeadersMessage>(
            GetBlockHeadersMessage.Request(id, HeaderOrigin.ByHash(hash), 1, 0, reverse: false), EthMessageCode.BlockHeaders, 1, cancellationToken)
            .ConfigureAwait(false);
        if (answer.Headers.Count == 0)
        {
            return null;
        }
        if (answer.Headers[0].Hash != hash)
        {
            await MisbehavedAsync($"answered header {hash} with {answer.Headers[0].Hash}").ConfigureAwait(false);
        }
        return answer.Headers[0];
    }

    public async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ThrowIfClosed();
        var bodies = new List<BlockBody?>(Math.Min(hashes.Count, EthLimits.MaxBodies));
        for (var start = 0; start < hashes.Count; start += EthLimits.MaxBodies)
        {
            var chunk = hashes.Skip(start).Take(EthLimits.MaxBodies).ToArray();
            var answer = await RequestAsync<BlockBodiesMessage>(
                GetBlockBodiesMessage.Request(NextRequestId(), chunk), EthMessageCode.BlockBodies, chunk.Length, cancellationToken).ConfigureAwait(false);
            bodies.AddRange(answer.Bodies);
            if (answer.Bodies.Count < chunk.Length)
            {
                break; // a short answer: fewer is allowed, the rest goes to another peer
            }
        }
        return bodies;
    }

    /// <summary>
    /// The sync dropped this peer (it served a body that breaks its header, headers that do not link to ours, or
    /// stalled): the session ends here too, with Disconnect(useless peer, 0x03), as geth's handler.removePeer hangs up
    /// on a peer its downloader drops. Without it the peer would stay connected, pinged and answered, but never asked
    /// again, holding one of our slots. The close runs on its own: the peer set calls this outside its lock.
    /// </summary>
    public void OnDropped(string reason, DropCause cause) =>
        _ = CloseAsync(DisconnectReason.UselessPeer, $"useless: dropped by the sync ({(cause == DropCause.Unresponsive ? "unresponsive" : "misbehaved")}): {reason}");

    /// <summary>Sends BlockRangeUpdate (eth/69 only) with our range as it is now.</summary>
    public async Task SendBlockRangeAsync(BlockRange range)
    {
        if (Version < EthProtocol.Eth69 || _closeReason is not null)
        {
            return;
        }
        try
        {
            await SendAsync(new BlockRangeUpdateMessage(range), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            await CloseAsync(null, $"send failed: {e.Message}").ConfigureAwait(false);
        }
    }

    /// <summary>Closes the session: sends Disconnect with <paramref name="reason"/> where given, fails every request.</summary>
    public async Task CloseAsync(DisconnectReason? reason, string words)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }
        _closeReason = words;
        _sentReason = reason;
        if (reason is { } r)
        {
            try
            {
                // Bounded: a peer that stopped reading must not hold the close.
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
                await _connection.SendDisconnectAsync(r, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                // The connection is going anyway.
            }
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var (id, pending) in _pending)
        {
            if (_pending.TryRemove(id, out _))
            {
                pending.Answer.TrySetException(new PeerException($"peer {Id} {words}"));
            }
        }
        await _connection.DisposeAsync().ConfigureAwait(false);
        Log.Closed(_logger, Id, words);
        _closed.TrySetResult(words);
    }

    private async Task<T> RequestAsync<T>(EthMessage request, byte answerCode, int maxItems, CancellationToken cancellationToken)
        where T : EthMessage
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var id = ((IEthExchange)request).RequestId;
        var pending = new PendingRequest(answerCode, maxItems);
        try
        {
            _pending[id] = pending;
            ThrowIfClosed();
            try
            {
                await SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                throw new PeerException($"peer {Id}: sending {request.Name} failed: {e.Message}", e);
            }
            try
            {
                return (T)await pending.Answer.Task.WaitAsync(_options.RequestTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new PeerException($"peer {Id}: no answer to {request.Name} within {_options.RequestTimeout.TotalSeconds:0.###} s");
            }
        }
        finally
        {
            _pending.TryRemove(new KeyValuePair<ulong, PendingRequest>(id, pending));
            _slots.Release();
        }
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var pooled = await _connection.ReadPooledMessageAsync(cancellationToken).ConfigureAwait(false);
            var message = pooled.Message;
            Volatile.Write(ref _lastReceived, _time.GetTimestamp());
            switch (message.Code)
            {
                case P2pMessageCodes.Ping:
                    await _connection.SendPongAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                case P2pMessageCodes.Pong:
                    continue;
                case P2pMessageCodes.Disconnect:
                    var reason = P2pMessages.DecodeDisconnect(message.Payload.Span);
                    await CloseAsync(null, $"disconnected by peer: {(reason is { } r ? r.ToString() : "no reason")}").ConfigureAwait(false);
                    return;
                case P2pMessageCodes.Hello:
                    throw new EthSessionException(DisconnectReason.BreachOfProtocol, "sent a second Hello");
            }
            if (message.Code < Offset)
            {
                continue; // p2p codes 0x04-0x0f are reserved; geth ignores them too
            }
            var relative = message.Code - Offset;
            if (relative >= (ulong)EthProtocol.MessageSpace(Version))
            {
                throw new EthSessionException(DisconnectReason.SubprotocolReason, $"sent message code 0x{message.Code:x2}, outside every capability we share");
            }
            if (!EthMessages.TryDecode(Version, (byte)relative, message.Payload.Span, out var eth, out var error))
            {
                throw new EthSessionException(DisconnectReason.SubprotocolReason, error);
            }
            await HandleAsync(eth, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(EthMessage message, CancellationToken cancellationToken)
    {
        switch (message)
        {
            case GetBlockHeadersMessage query:
                await SendAsync(EthServing.HeadersMessage(_chain, query), cancellationToken).ConfigureAwait(false);
                break;
            case GetBlockBodiesMessage query:
                await SendAsync(new BlockBodiesMessage(query.RequestId, EthServing.Bodies(_chain, query.Hashes)), cancellationToken).ConfigureAwait(false);
                break;
            case GetReceiptsMessage query:
                await SendAsync(ReceiptsMessage.Empty(query.RequestId), cancellationToken).ConfigureAwait(false);
                break;
            case GetPooledTransactionsMessage query:
                await SendAsync(PooledTransactionsMessage.Empty(query.RequestId), cancellationToken).ConfigureAwait(false);
                break;
            case BlockHeadersMessage answer:
                Deliver(answer, answer.RequestId, answer.Headers.Count);
                break;
            case BlockBodiesMessage answer:
                Deliver(answer, answer.RequestId, answer.Bodies.Count);
                break;
            case ReceiptsMessage or PooledTransactionsMessage:
                Stray(((IEthExchange)message).RequestId, message.Name);
                break;
            case BlockRangeUpdateMessage update:
                if (update.Range.Problem is { } problem)
                {
                    throw new EthSessionException(DisconnectReason.SubprotocolReason, $"sent an invalid BlockRangeUpdate: {problem}");
                }
                _range = new StrongBox<BlockRange>(update.Range);
                break;
            case StatusMessage:
                throw new EthSessionException(DisconnectReason.SubprotocolReason, "sent a second Status");
            default:
                // Transactions, NewPooledTransactionHashes, NewBlock, NewBlockHashes: read and ignored (we keep no
                // pool and follow the beacon node, not announcements), without punishing.
                break;
        }
    }

    private void Deliver(EthMessage answer, ulong requestId, int items)
    {
        if (!_pending.TryGetValue(requestId, out var pending))
        {
            Stray(requestId, answer.Name);
            return;
        }
        if (pending.AnswerCode != answer.Code)
        {
            throw new EthSessionException(DisconnectReason.SubprotocolReason, $"answered request {requestId} with {answer.Name}");
        }
        if (items > pending.MaxItems)
        {
            throw new EthSessionException(DisconnectReason.SubprotocolReason, $"answered {items} items in {answer.Name} to a request for {pending.MaxItems}");
        }
        pending.Answer.TrySetResult(answer);
    }

    private void Stray(ulong requestId, string name)
    {
        var strays = Interlocked.Increment(ref _strays);
        Log.StrayAnswer(_logger, Id, name, requestId, strays);
        if (strays > _options.MaxStrayAnswers)
        {
            throw new EthSessionException(DisconnectReason.SubprotocolReason, $"sent {strays} answers to no request of ours (last {name} id {requestId})");
        }
    }

    private async Task PingLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.PingInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var silent = _time.GetElapsedTime(Volatile.Read(ref _lastReceived));
                if (silent >= _options.IdleTimeout)
                {
                    await CloseAsync(DisconnectReason.PingTimeout, $"timed out: no message for {silent.TotalSeconds:0} s").ConfigureAwait(false);
                    return;
                }
                await _connection.SendPingAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            await CloseAsync(null, $"ping failed: {e.Message}").ConfigureAwait(false);
        }
    }

    /// <summary>Encodes into a pooled buffer (an answer of 512 headers is ~330 KB: a new array each would be a large object) and sends.</summary>
    private async ValueTask SendAsync(EthMessage message, CancellationToken cancellationToken)
    {
        var length = message.EncodeRented(out var buffer);
        try
        {
            await _connection.WriteMessageAsync(Offset + message.Code, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ulong NextRequestId() => (ulong)Interlocked.Increment(ref _nextRequestId);

    private void ThrowIfClosed()
    {
        if (_closeReason is { } reason)
        {
            throw new PeerException($"peer {Id} {reason}");
        }
    }

    /// <summary>What to tell the peer and the log for a failure of the read loop.</summary>
    private DisconnectReason? Classify(Exception e, out string words)
    {
        switch (e)
        {
            case EthSessionException session:
                words = $"broke the eth protocol: {session.Message}";
                return session.Reason;
            case RlpxProtocolException rlpx:
                words = $"broke RLPx: {rlpx.Message}";
                return rlpx.DisconnectReason;
            case OperationCanceledException when _stop.IsCancellationRequested:
                words = _closeReason ?? "closed";
                return null;
            case EndOfStreamException:
                words = "closed the connection";
                return null;
            default:
                words = $"connection failed: {e.Message}";
                return null;
        }
    }

    private sealed class PendingRequest(byte answerCode, int maxItems)
    {
        public byte AnswerCode { get; } = answerCode;

        public int MaxItems { get; } = maxItems;

        public TaskCompletionSource<EthMessage> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(820, LogLevel.Debug, "eth peer closed id={Peer} reason={Reason}")]
        public static partial void Closed(ILogger logger, string peer, string reason);

        [LoggerMessage(821, LogLevel.Debug, "eth peer sent an answer to no request id={Peer} message={Message} requestId={RequestId} strays={Strays}")]
        public static partial void StrayAnswer(ILogger logger, string peer, string message, ulong requestId, int strays);
    }
}

/// <summary>A peer broke the eth session's rules; <see cref="Reason"/> is what the Disconnect says.</summary>
internal sealed class EthSessionException(DisconnectReason reason, string message) : Exception(message)
{
    public DisconnectReason Reason { get; } = reason;
}
