using System.Text.Json;
using EngineSkeleton.Server.Auth;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// A JSON-RPC endpoint: one set of RPC targets served over HTTP POST (single and batch) and WebSocket on one path of
/// one Kestrel port, optionally behind the Engine API JWT. Built by
/// <see cref="RpcApplicationBuilderExtensions.UseJsonRpc"/>; disposed when the host stops.
/// </summary>
internal sealed partial class RpcEndpoint : IAsyncDisposable
{
    private readonly RpcMethodTable _methods;
    private readonly JsonSerializerOptions _json;
    private readonly JwtValidator? _jwt;
    private readonly IRpcObserver? _observer;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private HttpRpcChannel _channel;
    private bool _disposed;

    /// <param name="options">Validated here; a bad value throws <see cref="ArgumentException"/>.</param>
    /// <param name="targets">Objects whose <c>[JsonRpcMethod("name")]</c> methods are served.</param>
    /// <param name="json">The host's serializer options for parameters and results (JsonElement, records).</param>
    /// <param name="jwt">Required exactly when <see cref="RpcEndpointOptions.RequireJwt"/> is set.</param>
    /// <param name="loggerFactory">For the endpoint's and its dispatchers' logs.</param>
    /// <param name="observer">Told of every call and authentication (metrics, diagnostics); none if null.</param>
    public RpcEndpoint(RpcEndpointOptions options, IEnumerable<object> targets, JsonSerializerOptions json, JwtValidator? jwt, ILoggerFactory loggerFactory, IRpcObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        if (options.RequireJwt != (jwt is not null))
        {
            throw new ArgumentException(
                options.RequireJwt
                    ? $"RPC endpoint {options.Name} requires a JWT validator"
                    : $"RPC endpoint {options.Name} does not require JWT but a validator was given",
                nameof(jwt));
        }

        Options = options;
        _methods = RpcMethodTable.Build(targets);
        _json = json;
        _jwt = jwt;
        _observer = observer;
        _logger = loggerFactory.CreateLogger<RpcEndpoint>();
        _channel = new HttpRpcChannel(_methods, json, _logger, options.Name, observer);
        Log.EndpointReady(_logger, options.Name, options.Port, options.Path, options.RequireJwt, _methods.Names.Count);
    }

    public RpcEndpointOptions Options { get; }

    /// <summary>The method names this endpoint serves, sorted (for rpc_discover consistency checks).</summary>
    public IReadOnlyList<string> MethodNames => _methods.Names;

    /// <summary>Whether a request is for this endpoint: its local port (unless 0) and its exact path.</summary>
    public bool Matches(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Options.Port != 0 && context.Connection.LocalPort != Options.Port)
        {
            return false;
        }

        var path = context.Request.Path;
        return path.Equals(Options.Path, StringComparison.Ordinal)
            || (Options.Path == "/" && !path.HasValue);
    }

    /// <summary>Serves one HTTP request or WebSocket session; never throws for bad input, never answers 500 for it.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await HandleCoreAsync(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !context.RequestAborted.IsCancellationRequested)
        {
            // A bug of ours, not the caller's: log it and still answer JSON-RPC, never a bare 500 (docs/quality.md).
            Log.Unhandled(_logger, Options.Name, ex);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                var body = RpcWire.Error(default, RpcErrorCodes.InternalError, "internal error");
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = body.Length;
                await context.Response.Body.WriteAsync(body, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Client gone.
        }
    }

    private async Task HandleCoreAsync(HttpContext context)
    {
        if (_jwt is not null)
        {
            var auth = await JwtHttpFilter.ValidateAsync(context, _jwt).ConfigureAwait(false);
            // Counted before the 401 goes out, so a client that reads its refusal then scrapes /metrics sees it.
            _observer?.Authenticated(Options.Name, auth);
            if (!auth.IsValid)
            {
                Log.Unauthorized(_logger, Options.Name, context.Connection.RemoteIpAddress?.ToString() ?? "?");
                await JwtHttpFilter.RefuseAsync(context, auth).ConfigureAwait(false);
                return;
            }
        }

        if (context.WebSockets.IsWebSocketRequest)
        {
            await ServeWebSocketAsync(context).ConfigureAwait(false);
            return;
        }

        await ServeHttpAsync(context).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        HttpRpcChannel channel;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            channel = _channel;
        }

        await channel.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The shared dispatcher; rebuilt if the previous one stopped (it should not, but a dead one would hang callers).</summary>
    private HttpRpcChannel Channel
    {
        get
        {
            var channel = Volatile.Read(ref _channel);
            if (channel.IsAlive)
            {
                return channel;
            }

            lock (_gate)
            {
                if (!_channel.IsAlive && !_disposed)
                {
                    Log.ChannelRestarted(_logger, Options.Name);
                    _channel = new HttpRpcChannel(_methods, _json, _logger, Options.Name, _observer);
                }

                return _channel;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "JSON-RPC endpoint ready name={Name} port={Port} path={Path} jwt={Jwt} methods={Methods}")]
        public static partial void EndpointReady(ILogger logger, string name, int port, string path, bool jwt, int methods);

        [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "Refused unauthenticated RPC request endpoint={Name} remote={Remote}")]
        public static partial void Unauthorized(ILogger logger, string name, string remote);

        [LoggerMessage(EventId = 202, Level = LogLevel.Trace, Message = "Served RPC endpoint={Name} items={Items} status={Status} bytes={Bytes} elapsed={ElapsedMs}ms")]
        public static partial void Served(ILogger logger, string name, int items, int status, long bytes, double elapsedMs);

        [LoggerMessage(EventId = 203, Level = LogLevel.Debug, Message = "Refused RPC request endpoint={Name} status={Status} reason={Reason}")]
        public static partial void Refused(ILogger logger, string name, int status, string reason);

        [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Restarted the RPC dispatcher endpoint={Name}")]
        public static partial void ChannelRestarted(ILogger logger, string name);

        [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "Unhandled error serving RPC endpoint={Name}")]
        public static partial void Unhandled(ILogger logger, string name, Exception exception);

        [LoggerMessage(EventId = 205, Level = LogLevel.Debug, Message = "WebSocket session opened endpoint={Name} remote={Remote}")]
        public static partial void WebSocketOpened(ILogger logger, string name, string remote);

        [LoggerMessage(EventId = 206, Level = LogLevel.Debug, Message = "WebSocket session closed endpoint={Name} remote={Remote} reason={Reason}")]
        public static partial void WebSocketClosed(ILogger logger, string name, string remote, string reason);
    }
}
