using System.Diagnostics;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// The <see cref="JsonRpc"/> that invokes RPC targets, with the error mapping of docs/rpc.md: an
/// <see cref="RpcException"/> becomes <c>{"code":ex.Code,"message":ex.Message,"data"?}</c>, anything else -32603 with a
/// generic message (the exception is logged, never sent: no type names or stack traces on the wire).
/// </summary>
internal sealed partial class TargetJsonRpc : JsonRpc
{
    private readonly ILogger _logger;
    private readonly string _endpoint;
    private readonly IRpcObserver? _observer;

    public TargetJsonRpc(IJsonRpcMessageHandler handler, RpcMethodTable methods, ILogger logger, string endpoint = "", IRpcObserver? observer = null)
        : base(handler)
    {
        _logger = logger;
        _endpoint = endpoint;
        _observer = observer;
        // StreamJsonRpc's own tracing goes to a DefaultTraceListener; our logs say what an operator needs.
        TraceSource = new TraceSource(nameof(TargetJsonRpc), SourceLevels.Off);
        // Requests from different HTTP clients are independent: run them concurrently on the thread pool instead of
        // StreamJsonRpc's default order-preserving context, which would queue every caller behind the slowest
        // synchronous handler.
        SynchronizationContext = null;
        CancelLocallyInvokedMethodsWhenConnectionIsClosed = true;
        methods.AddTo(this);
    }

    /// <summary>
    /// Every call that reached a target, over HTTP and WebSocket alike, timed from dispatch to its answer (the
    /// handler's own time, not the transport's): what the metrics count by method and outcome.
    /// </summary>
    protected override async ValueTask<JsonRpcMessage> DispatchRequestAsync(JsonRpcRequest request, TargetMethod targetMethod, CancellationToken cancellationToken)
    {
        if (_observer is null)
        {
            return await base.DispatchRequestAsync(request, targetMethod, cancellationToken).ConfigureAwait(false);
        }
        var started = Stopwatch.GetTimestamp();
        var answer = await base.DispatchRequestAsync(request, targetMethod, cancellationToken).ConfigureAwait(false);
        var code = answer is JsonRpcError { Error: { } error } ? (int?)error.Code : null;
        _observer.Called(_endpoint, request.Method ?? "?", code, Stopwatch.GetElapsedTime(started));
        return answer;
    }

    protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
    {
        switch (exception)
        {
            case RpcException rpc:
                return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)rpc.Code, Message = rpc.Message, Data = rpc.ErrorData };
            case LocalRpcException local:
                return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)local.ErrorCode, Message = local.Message, Data = local.ErrorData };
            case OperationCanceledException:
                return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)RpcErrorCodes.InternalError, Message = "request cancelled" };
            default:
                Log.HandlerFailed(_logger, request.Method ?? "?", exception);
                return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)RpcErrorCodes.InternalError, Message = "internal error" };
        }
    }

    /// <summary>
    /// StreamJsonRpc answers an argument mismatch itself with -32602 and a <see cref="CommonErrorData"/> carrying .NET
    /// exception types and stack traces; keep the code, drop the data and the target's type names.
    /// </summary>
    public static void Sanitize(JsonRpcMessage message)
    {
        if (message is JsonRpcError { Error: { } error } && error.Data is CommonErrorData data)
        {
            error.Data = null;
            if (error.Code == JsonRpcErrorCode.InvalidParams)
            {
                error.Message = InvalidParamsMessage(data);
            }
        }
        else if (message is JsonRpcError { Error: { Code: JsonRpcErrorCode.InvalidParams } invalid } && invalid.Message?.Contains("Unable to find method", StringComparison.Ordinal) == true)
        {
            invalid.Message = "invalid params";
        }
    }

    private static string InvalidParamsMessage(CommonErrorData data)
    {
        var inner = data;
        while (inner.Inner is not null)
        {
            inner = inner.Inner;
        }

        return inner.Message is { Length: > 0 and < 300 } detail && !ReferenceEquals(inner, data)
            ? $"invalid argument: {detail}"
            : "invalid params";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 220, Level = LogLevel.Error, Message = "RPC handler failed method={Method}")]
        public static partial void HandlerFailed(ILogger logger, string method, Exception exception);
    }
}
