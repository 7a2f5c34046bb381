using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;
using StreamJsonRpc.Reflection;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// One long-lived <see cref="JsonRpc"/> shared by all HTTP requests of an endpoint, fed through this in-memory message
/// handler. Each dispatched request gets a unique internal id; the answer is matched back by that id and written with
/// the caller's id exactly as sent.
/// </summary>
/// <remarks>
/// Why not a JsonRpc per HTTP request: building one (target registration, formatter, read loop task) costs far more
/// than the dispatch itself. Deserialization happens in <see cref="ReadAsync"/>, i.e. on StreamJsonRpc's single read
/// loop, because the formatter keeps per-message state and is not thread-safe. For the same reason answers are
/// serialized under <see cref="_serializeGate"/>: JsonRpc calls <see cref="WriteAsync"/> from every completing handler
/// at once and leaves ordering to the handler (StreamJsonRpc's MessageHandlerBase uses a semaphore for this).
/// </remarks>
internal sealed partial class HttpRpcChannel : IJsonRpcMessageHandler, IJsonRpcMessageBufferManager, IAsyncDisposable
{
    private readonly Channel<Inbound> _inbound = Channel.CreateUnbounded<Inbound>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly SystemTextJsonFormatter _formatter;
    private readonly Lock _serializeGate = new();
    private readonly TargetJsonRpc _rpc;
    private readonly ILogger _logger;
    private long _nextId;
    private volatile bool _faulted;

    public HttpRpcChannel(RpcMethodTable methods, JsonSerializerOptions json, ILogger logger, string endpoint = "", IRpcObserver? observer = null)
    {
        _logger = logger;
        _formatter = new SystemTextJsonFormatter { JsonSerializerOptions = json };
        _rpc = new TargetJsonRpc(this, methods, logger, endpoint, observer);
        _rpc.Disconnected += OnDisconnected;
        _rpc.StartListening();
    }

    /// <summary>False once the JsonRpc has stopped; the endpoint then builds a new channel.</summary>
    public bool IsAlive => !_faulted;

    public bool CanRead => true;

    public bool CanWrite => true;

    public IJsonRpcMessageFormatter Formatter => _formatter;

    /// <summary>
    /// Dispatches one checked request (see <see cref="RpcRequestParser"/>) and completes with the response bytes, or
    /// null for a notification once its handler has run (geth answers HTTP only after notifications ran).
    /// </summary>
    public async Task<byte[]?> DispatchAsync(RpcItem item, CancellationToken cancellationToken)
    {
        var internalId = Interlocked.Increment(ref _nextId);
        var pending = new Pending(item.Id, item.IsNotification);
        _pending[internalId] = pending;
        if (_faulted || !_inbound.Writer.TryWrite(new Inbound(internalId, item.Message)))
        {
            _pending.TryRemove(internalId, out _);
            return item.IsNotification ? null : RpcWire.Error(item.Id.Span, RpcErrorCodes.InternalError, "server is shutting down");
        }

        try
        {
            return await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The HTTP client went away: tell StreamJsonRpc so the handler's CancellationToken fires.
            if (_pending.TryRemove(internalId, out _))
            {
                _inbound.Writer.TryWrite(new Inbound(0, CancelRequest(internalId)));
            }

            throw;
        }
    }

    public async ValueTask<JsonRpcMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!_inbound.Reader.TryRead(out var inbound))
            {
                if (!await _inbound.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                continue;
            }

            JsonRpcMessage message;
            try
            {
                message = _formatter.Deserialize(new ReadOnlySequence<byte>(inbound.Message));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
            {
                // The parser let through something the formatter cannot read: answer it here, keep the loop alive.
                Log.UndecodableRequest(_logger, ex.Message);
                Fail(inbound.InternalId, RpcErrorCodes.InvalidRequest, "invalid request");
                continue;
            }

            if (message is not JsonRpcRequest request)
            {
                (message as IJsonRpcMessageBufferManager)?.DeserializationComplete(message);
                Fail(inbound.InternalId, RpcErrorCodes.InvalidRequest, "invalid request");
                continue;
            }

            if (inbound.InternalId != 0)
            {
                request.RequestId = new RequestId(inbound.InternalId);
            }

            return request;
        }
    }

    public ValueTask WriteAsync(JsonRpcMessage jsonRpcMessage, CancellationToken cancellationToken)
    {
        // Never throws: an exception here would tear down the shared JsonRpc.
        if (jsonRpcMessage is not IJsonRpcMessageWithId { RequestId.Number: long internalId }
            || !_pending.TryRemove(internalId, out var pending))
        {
            return default;
        }

        if (pending.IsNotification)
        {
            pending.TrySetResult(null);
            return default;
        }

        try
        {
            TargetJsonRpc.Sanitize(jsonRpcMessage);
            var buffer = new ArrayBufferWriter<byte>(256);
            lock (_serializeGate)
            {
                _formatter.Serialize(buffer, jsonRpcMessage);
            }

            pending.TrySetResult(RpcWire.WithId(buffer.WrittenSpan, pending.Id.Span));
        }
        catch (Exception ex)
        {
            Log.ResponseSerializationFailed(_logger, ex);
            pending.TrySetResult(RpcWire.Error(pending.Id.Span, RpcErrorCodes.InternalError, "internal error"));
        }

        return default;
    }

    void IJsonRpcMessageBufferManager.DeserializationComplete(JsonRpcMessage message) =>
        (message as IJsonRpcMessageBufferManager)?.DeserializationComplete(message);

    public async ValueTask DisposeAsync()
    {
        _faulted = true;
        _inbound.Writer.TryComplete();
        _rpc.Dispose();
        try
        {
            await _rpc.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already reported through Disconnected.
        }

        FailAll("server is shutting down");
    }

    private void OnDisconnected(object? sender, JsonRpcDisconnectedEventArgs e)
    {
        if (!_faulted)
        {
            _faulted = true;
            Log.ChannelStopped(_logger, e.Reason, e.Description, e.Exception);
            FailAll("internal error");
        }
    }

    private void FailAll(string message)
    {
        foreach (var id in _pending.Keys)
        {
            Fail(id, RpcErrorCodes.InternalError, message);
        }
    }

    private void Fail(long internalId, int code, string message)
    {
        if (internalId != 0 && _pending.TryRemove(internalId, out var pending))
        {
            pending.TrySetResult(pending.IsNotification ? null : RpcWire.Error(pending.Id.Span, code, message));
        }
    }

    private static byte[] CancelRequest(long internalId) =>
        Encoding.UTF8.GetBytes($$$"""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":{{{internalId}}}}}""");

    /// <summary>A request on its way to the JsonRpc read loop; id 0 = send as is (the transport's own notifications).</summary>
    private readonly record struct Inbound(long InternalId, ReadOnlyMemory<byte> Message);

    /// <summary>An HTTP request waiting for its answer; continuations run off StreamJsonRpc's write path.</summary>
    private sealed class Pending(ReadOnlyMemory<byte> id, bool isNotification)
        : TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public ReadOnlyMemory<byte> Id { get; } = id;

        public bool IsNotification { get; } = isNotification;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 230, Level = LogLevel.Debug, Message = "Request not readable by the RPC formatter err={Error}")]
        public static partial void UndecodableRequest(ILogger logger, string error);

        [LoggerMessage(EventId = 231, Level = LogLevel.Error, Message = "Failed to serialize an RPC response")]
        public static partial void ResponseSerializationFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 232, Level = LogLevel.Error, Message = "RPC dispatcher stopped reason={Reason} detail={Detail}")]
        public static partial void ChannelStopped(ILogger logger, DisconnectedReason reason, string detail, Exception? exception);
    }
}
