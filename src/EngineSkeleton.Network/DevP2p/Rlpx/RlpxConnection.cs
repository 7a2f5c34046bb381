using System.Buffers;
using EngineSkeleton.Core.Rlp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snappier;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// One RLPx connection over a stream (a TCP connection, or anything duplex in tests): the encryption handshake as
/// initiator or recipient, the Hello exchange, then framed messages. Messages of the p2p capability (Ping,
/// Disconnect) come out of <see cref="ReadMessageAsync"/> like any other; answering Ping and watching for silence is
/// the session's job, not the transport's.
/// <para>
/// Concurrency: one reader at a time (a second concurrent read is refused), any number of writers, serialized by one
/// lock so frames and the egress MAC stay in order. Reading and writing may overlap. A read that fails or is
/// cancelled leaves the incoming stream mid-frame, so later reads are refused; likewise for writes. The reading
/// side failing does not stop writing: a Disconnect with <see cref="RlpxProtocolException.DisconnectReason"/> can
/// still be sent. The connection owns the stream and disposes it.
/// </para>
/// </summary>
public sealed partial class RlpxConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly NodeKey _key;
    private readonly RlpxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[FrameCodec.SealedHeaderSize];
    private FrameCodec? _codec;
    private NodeId _remoteId;
    private int _handshakeStarted;
    private int _helloStarted;
    private int _reading;
    private volatile bool _compress;
    private volatile bool _readFailed;
    private volatile bool _writeFailed;

    /// <param name="stream">A connected duplex stream; the connection owns it.</param>
    /// <param name="key">This node's key; it stays the caller's to dispose.</param>
    /// <param name="options">Limits; <see cref="RlpxOptions.Default"/> when null.</param>
    /// <param name="timeProvider">The clock of the handshake timeouts; the system's when null.</param>
    /// <param name="logger">Debug logs of handshakes; none when null.</param>
    public RlpxConnection(Stream stream, NodeKey key, RlpxOptions? options = null, TimeProvider? timeProvider = null, ILogger<RlpxConnection>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(key);
        _options = options ?? RlpxOptions.Default;
        _options.Validate();
        _stream = stream;
        _key = key;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>A connection past the handshake, with secrets given: tests of the frame layer, as geth's InitWithSecrets.</summary>
    internal RlpxConnection(Stream stream, NodeKey key, HandshakeSecrets secrets, RlpxOptions? options = null)
        : this(stream, key, options)
    {
        _codec = new FrameCodec(secrets);
        _remoteId = secrets.RemoteId;
        _handshakeStarted = 1;
    }

    public NodeId LocalId => _key.Id;

    /// <summary>The remote node's identity, proven by the handshake.</summary>
    public NodeId RemoteId => _codec is not null ? _remoteId : throw new InvalidOperationException("the RLPx handshake has not completed");

    public bool IsHandshakeComplete => _codec is not null;

    /// <summary>True once both sides' Hellos said p2p version 5 or later: every message since is Snappy-compressed.</summary>
    public bool IsCompressionEnabled => _compress;

    /// <summary>Runs the handshake as the side that opened the connection, to the node <paramref name="remoteId"/>.</summary>
    /// <exception cref="RlpxProtocolException">The ack is malformed or does not decrypt.</exception>
    /// <exception cref="TimeoutException">The handshake took longer than <see cref="RlpxOptions.HandshakeTimeout"/>.</exception>
    public Task<NodeId> HandshakeAsInitiatorAsync(NodeId remoteId, CancellationToken cancellationToken) =>
        HandshakeAsync(token => RlpxHandshake.InitiateAsync(_stream, _key, remoteId, token), initiator: true, cancellationToken);

    /// <summary>Runs the handshake as the side that accepted the connection; returns the initiator's identity.</summary>
    /// <exception cref="RlpxProtocolException">The auth is malformed, does not decrypt, or its signature recovers no key.</exception>
    /// <exception cref="TimeoutException">The handshake took longer than <see cref="RlpxOptions.HandshakeTimeout"/>.</exception>
    public Task<NodeId> HandshakeAsRecipientAsync(CancellationToken cancellationToken) =>
        HandshakeAsync(token => RlpxHandshake.RespondAsync(_stream, _key, token), initiator: false, cancellationToken);

    /// <summary>
    /// Sends <paramref name="ours"/> and reads the peer's Hello at the same time (as geth does, so neither side waits
    /// for the other), within <see cref="RlpxOptions.HandshakeTimeout"/>; then switches Snappy on if both speak p2p
    /// version 5 or later. A Hello over <see cref="Hello.MaxSize"/> is refused before it is read.
    /// </summary>
    /// <exception cref="RlpxDisconnectedException">The peer sent Disconnect instead.</exception>
    /// <exception cref="RlpxProtocolException">
    /// The peer's Hello is malformed, too large, or names another node than the handshake proved.
    /// </exception>
    /// <exception cref="TimeoutException">No Hello within <see cref="RlpxOptions.HandshakeTimeout"/>.</exception>
    public async Task<Hello> ExchangeHelloAsync(Hello ours, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ours);
        var remoteId = RemoteId;
        if (ours.NodeId != LocalId)
        {
            throw new ArgumentException($"our Hello names node {ours.NodeId.ToShortString()}, this connection's key is {LocalId.ToShortString()}", nameof(ours));
        }
        if (Interlocked.Exchange(ref _helloStarted, 1) != 0)
        {
            throw new InvalidOperationException("Hello is exchanged once per connection");
        }
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var write = WriteMessageAsync(P2pMessageCodes.Hello, ours.Encode(), linked.Token).AsTask();
        Hello theirs;
        try
        {
            var message = (await ReadMessageCoreAsync(Hello.MaxSize, pooled: false, linked.Token).ConfigureAwait(false)).Message;
            theirs = message.Code switch
            {
                P2pMessageCodes.Hello => Hello.Decode(message.Payload.Span),
                P2pMessageCodes.Disconnect => throw new RlpxDisconnectedException(P2pMessages.DecodeDisconnect(message.Payload.Span)),
                _ => throw new RlpxProtocolException(RlpxErrorKind.BadMessage, $"expected Hello, got message code {message.Code}"),
            };
            if (theirs.NodeId != remoteId)
            {
                throw new RlpxProtocolException(
                    RlpxErrorKind.UnexpectedIdentity, $"Hello names node {theirs.NodeId.ToShortString()}, the handshake proved {remoteId.ToShortString()}");
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await ObserveAsync(write).ConfigureAwait(false);
            throw new TimeoutException($"no Hello from the peer within {_options.HandshakeTimeout.TotalSeconds:0.###} s");
        }
        catch
        {
            await ObserveAsync(write).ConfigureAwait(false);
            throw;
        }
        await write.ConfigureAwait(false);
        _compress = ours.ProtocolVersion >= Hello.SnappyProtocolVersion && theirs.ProtocolVersion >= Hello.SnappyProtocolVersion;
        Log.HelloReceived(_logger, remoteId.ToShortString(), theirs.ClientId, theirs.ProtocolVersion, string.Join(",", theirs.Capabilities), _compress);
        return theirs;
    }

    /// <summary>
    /// Reads the next message. Frames announcing more than <see cref="RlpxOptions.MaxMessageSize"/> allows are refused
    /// from their header, Snappy data from its announced length, each before anything of that size is allocated.
    /// </summary>
    /// <exception cref="RlpxProtocolException">A bad MAC, an oversized frame or message, bad Snappy data, a bad code.</exception>
    /// <exception cref="EndOfStreamException">The peer closed the connection.</exception>
    public async ValueTask<RlpxMessage> ReadMessageAsync(CancellationToken cancellationToken) =>
        (await ReadMessageCoreAsync(_options.MaxMessageSize, pooled: false, cancellationToken).ConfigureAwait(false)).Message;

    /// <summary>
    /// As <see cref="ReadMessageAsync"/>, with the payload in a buffer rented from <see cref="ArrayPool{T}.Shared"/>,
    /// given back when the result is disposed: a session's read loop decodes each message (every eth decoder copies
    /// what it keeps) and then lets the buffer go, so a 300 KB BlockHeaders answer is not a new large-object-heap array
    /// each time (those arrays were what drove the gen2 collections of the devp2p benchmark).
    /// </summary>
    internal async ValueTask<PooledRlpxMessage> ReadPooledMessageAsync(CancellationToken cancellationToken) =>
        await ReadMessageCoreAsync(_options.MaxMessageSize, pooled: true, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Sends one message: the code and the RLP payload, compressed once Hello has switched Snappy on. Writers are
    /// serialized; the message is on the stream when the task completes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The payload is over 2^24 - 1 bytes, more than any peer reads.</exception>
    public async ValueTask WriteMessageAsync(ulong code, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var codec = Codec();
        if (payload.Length > FrameCodec.MaxFrameSize)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"an RLPx message holds at most {FrameCodec.MaxFrameSize} bytes (geth's limit)");
        }
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        byte[]? buffer = null;
        try
        {
            if (_writeFailed)
            {
                throw new InvalidOperationException("an earlier write to this RLPx connection failed; a frame may be half sent");
            }
            var length = SealMessage(codec, code, payload.Span, _compress, out buffer);
            try
            {
                await _stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _writeFailed = true;
                throw;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            _writeLock.Release();
        }
    }

    public ValueTask SendPingAsync(CancellationToken cancellationToken) =>
        WriteMessageAsync(P2pMessageCodes.Ping, P2pMessages.EmptyList, cancellationToken);

    public ValueTask SendPongAsync(CancellationToken cancellationToken) =>
        WriteMessageAsync(P2pMessageCodes.Pong, P2pMessages.EmptyList, cancellationToken);

    /// <summary>Sends Disconnect with <paramref name="reason"/>; closing the connection is the caller's (dispose).</summary>
    public ValueTask SendDisconnectAsync(DisconnectReason reason, CancellationToken cancellationToken) =>
        WriteMessageAsync(P2pMessageCodes.Disconnect, P2pMessages.EncodeDisconnect(reason), cancellationToken);

    /// <summary>Switches Snappy on without a Hello exchange: for tests of the compressed frame layer.</summary>
    internal void EnableCompression() => _compress = true;

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _codec?.Dispose();
        _writeLock.Dispose();
    }

    private async Task<NodeId> HandshakeAsync(Func<CancellationToken, Task<HandshakeSecrets>> run, bool initiator, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _handshakeStarted, 1) != 0)
        {
            throw new InvalidOperationException("an RLPx connection takes one handshake");
        }
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HandshakeSecrets secrets;
        try
        {
            secrets = await run(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the RLPx handshake did not finish within {_options.HandshakeTimeout.TotalSeconds:0.###} s");
        }
        _remoteId = secrets.RemoteId;
        _codec = new FrameCodec(secrets);
        Log.HandshakeCompleted(_logger, initiator ? "initiator" : "recipient", _remoteId.ToShortString());
        return _remoteId;
    }

    private async ValueTask<PooledRlpxMessage> ReadMessageCoreAsync(int maxMessageSize, bool pooled, CancellationToken cancellationToken)
    {
        var codec = Codec();
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new InvalidOperationException("an RLPx connection has one reader at a time");
        }
        try
        {
            if (_readFailed)
            {
                throw new InvalidOperationException("an earlier read from this RLPx connection failed; the incoming stream is mid-frame");
            }
            try
            {
                return await ReadFrameAsync(codec, maxMessageSize, pooled, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _readFailed = true;
                throw;
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    private async ValueTask<PooledRlpxMessage> ReadFrameAsync(FrameCodec codec, int maxMessageSize, bool pooled, CancellationToken cancellationToken)
    {
        await _stream.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
        var compress = _compress;
        var frameSize = codec.OpenHeader(_header);
        var maxFrameSize = MaxFrameSize(maxMessageSize, compress);
        if (frameSize > maxFrameSize)
        {
            throw new RlpxProtocolException(
                RlpxErrorKind.FrameTooLarge, $"RLPx frame announces {frameSize} bytes; a message within the {maxMessageSize}-byte limit takes at most {maxFrameSize}");
        }
        var bodyLength = FrameCodec.PaddedSize(frameSize) + FrameMac.Size;
        var body = ArrayPool<byte>.Shared.Rent(bodyLength);
        try
        {
            await _stream.ReadExactlyAsync(body.AsMemory(0, bodyLength), cancellationToken).ConfigureAwait(false);
            codec.OpenFrame(body.AsSpan(0, bodyLength));
            var message = DecodeMessage(body.AsSpan(0, frameSize), maxMessageSize, compress, pooled, out var rented);
            return new PooledRlpxMessage(message, rented);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>
    /// The largest frame a message of at most <paramref name="maxMessageSize"/> bytes makes: its code and its data,
    /// compressed or not. Anything larger can only be refused later, so it is refused from the header.
    /// </summary>
    internal static int MaxFrameSize(int maxMessageSize, bool compressed)
    {
        long data = compressed ? Snappy.GetMaxCompressedLength(maxMessageSize) : maxMessageSize;
        return (int)Math.Min(FrameCodec.MaxFrameSize, RlpxOptions.MaxCodeSize + data);
    }

    /// <summary>
    /// frame-data = msg-id || msg-data, msg-data Snappy-compressed when <paramref name="compressed"/>. The announced
    /// decompressed length is checked against the limit before the output is allocated.
    /// </summary>
    internal static RlpxMessage DecodeMessage(ReadOnlySpan<byte> frame, int maxMessageSize, bool compressed) =>
        DecodeMessage(frame, maxMessageSize, compressed, pooled: false, out _);

    /// <summary>
    /// <see cref="DecodeMessage(ReadOnlySpan{byte}, int, bool)"/>; when <paramref name="pooled"/>, the payload is in
    /// <paramref name="rented"/>, rented from <see cref="ArrayPool{T}.Shared"/> for the caller to return.
    /// </summary>
    internal static RlpxMessage DecodeMessage(ReadOnlySpan<byte> frame, int maxMessageSize, bool compressed, bool pooled, out byte[]? rented)
    {
        rented = null;
        ulong code;
        var reader = new RlpReader(frame);
        try
        {
            code = reader.ReadUInt64();
        }
        catch (RlpException e)
        {
            throw new RlpxProtocolException(RlpxErrorKind.BadMessage, $"RLPx message code is malformed: {e.Message}", e);
        }
        var data = frame[reader.Offset..];
        if (!compressed)
        {
            if (data.Length > maxMessageSize)
            {
                throw new RlpxProtocolException(RlpxErrorKind.MessageTooLarge, $"RLPx message {code} is {data.Length} bytes, more than the {maxMessageSize}-byte limit");
            }
            return new RlpxMessage(code, Copy(data, pooled, out rented), data.Length);
        }
        if (code == P2pMessageCodes.Disconnect)
        {
            // ethereumjs (devp2p 10.0.0) sends Disconnect uncompressed even after a v5 Hello: try Snappy, then take
            // the bytes as sent. Only for Disconnect, and only small ones: the connection is ending either way.
            try
            {
                return Decompress(code, data, maxMessageSize, pooled, out rented);
            }
            catch (RlpxProtocolException) when (data.Length <= Hello.MaxSize)
            {
                return new RlpxMessage(code, Copy(data, pooled, out rented), data.Length);
            }
        }
        return Decompress(code, data, maxMessageSize, pooled, out rented);
    }

    /// <summary>A payload buffer of <paramref name="length"/> bytes: rented (and named in <paramref name="rented"/>) or exact.</summary>
    private static Memory<byte> Allocate(int length, bool pooled, out byte[]? rented)
    {
        if (!pooled)
        {
            rented = null;
            return new byte[length];
        }
        rented = ArrayPool<byte>.Shared.Rent(length);
        return rented.AsMemory(0, length);
    }

    private static Memory<byte> Copy(ReadOnlySpan<byte> data, bool pooled, out byte[]? rented)
    {
        var payload = Allocate(data.Length, pooled, out rented);
        data.CopyTo(payload.Span);
        return payload;
    }

    private static RlpxMessage Decompress(ulong code, ReadOnlySpan<byte> data, int maxMessageSize, bool pooled, out byte[]? rented)
    {
        rented = null;
        int announced;
        try
        {
            announced = Snappy.GetUncompressedLength(data);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            throw new RlpxProtocolException(RlpxErrorKind.BadCompression, $"RLPx message {code} has no readable Snappy length: {e.Message}", e);
        }
        if (announced < 0)
        {
            // Snappier reads a length past int's range as a negative number rather than refusing it.
            throw new RlpxProtocolException(RlpxErrorKind.BadCompression, $"RLPx message {code} announces a Snappy length beyond 2^31");
        }
        if (announced > maxMessageSize)
        {
            throw new RlpxProtocolException(
                RlpxErrorKind.MessageTooLarge, $"RLPx message {code} announces {announced} bytes decompressed, more than the {maxMessageSize}-byte limit");
        }
        var payload = Allocate(announced, pooled, out var buffer);
        int written;
        try
        {
            written = Snappy.Decompress(data, payload.Span);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            Return(buffer);
            throw new RlpxProtocolException(RlpxErrorKind.BadCompression, $"RLPx message {code} has corrupt Snappy data: {e.Message}", e);
        }
        if (written != announced)
        {
            Return(buffer);
            throw new RlpxProtocolException(RlpxErrorKind.BadCompression, $"RLPx message {code} announced {announced} bytes decompressed and gave {written}");
        }
        rented = buffer;
        return new RlpxMessage(code, payload, data.Length);
    }

    private static void Return(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Encodes, compresses and seals one message into a pooled buffer; returns the bytes to send.</summary>
    private static int SealMessage(FrameCodec codec, ulong code, ReadOnlySpan<byte> payload, bool compress, out byte[] buffer)
    {
        var codeLength = RlpWriter.LengthOfUInt64(code);
        var maxData = compress ? Snappy.GetMaxCompressedLength(payload.Length) : payload.Length;
        buffer = ArrayPool<byte>.Shared.Rent(FrameCodec.SealedSize(codeLength + maxData));
        var frame = buffer.AsSpan(FrameCodec.SealedHeaderSize);
        var writer = new RlpWriter(frame);
        writer.WriteUInt64(code);
        int dataLength;
        if (compress)
        {
            dataLength = Snappy.Compress(payload, frame[codeLength..]);
        }
        else
        {
            payload.CopyTo(frame[codeLength..]);
            dataLength = payload.Length;
        }
        var frameSize = codeLength + dataLength;
        if (frameSize > FrameCodec.MaxFrameSize)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), frameSize, $"the frame of message {code} would hold {frameSize} bytes, more than {FrameCodec.MaxFrameSize}");
        }
        return codec.Seal(buffer, frameSize);
    }

    private FrameCodec Codec() => _codec ?? throw new InvalidOperationException("the RLPx handshake has not completed");

    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch
        {
            // The read's failure is the one to report, as geth reports it (p2p/transport.go doProtoHandshake).
        }
    }

    private static partial class Log
    {
        [LoggerMessage(800, LogLevel.Debug, "RLPx handshake done role={Role} peer={Peer}")]
        public static partial void HandshakeCompleted(ILogger logger, string role, string peer);

        [LoggerMessage(801, LogLevel.Debug, "Hello received peer={Peer} client={Client} version={Version} caps={Caps} snappy={Snappy}")]
        public static partial void HelloReceived(ILogger logger, string peer, string client, ulong version, string caps, bool snappy);
    }
}

/// <summary>
/// A message whose payload may sit in a buffer rented from <see cref="ArrayPool{T}.Shared"/>: valid until disposed,
/// which gives the buffer back. Dispose once, after the last use of <see cref="Message"/>'s payload.
/// </summary>
internal readonly struct PooledRlpxMessage(RlpxMessage message, byte[]? rented) : IDisposable
{
    public RlpxMessage Message { get; } = message;

    public void Dispose()
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
