namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// The one exception a handler throws to answer with a JSON-RPC error. Spec outcomes (SYNCING, INVALID) are values,
/// never this; the transport turns it into <c>{"error":{"code","message","data"?}}</c> with the request's id.
/// </summary>
internal sealed class RpcException : Exception
{
    public RpcException(int code, string message, object? data = null)
        : base(message)
    {
        Code = code;
        ErrorData = data;
    }

    public RpcException()
        : this(RpcErrorCodes.InternalError, "internal error")
    {
    }

    public RpcException(string message)
        : this(RpcErrorCodes.InternalError, message)
    {
    }

    public RpcException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = RpcErrorCodes.InternalError;
    }

    public int Code { get; }

    public object? ErrorData { get; }

    public static RpcException InvalidParams(string message) => new(RpcErrorCodes.InvalidParams, message);

    public static RpcException UnknownPayload() => new(RpcErrorCodes.UnknownPayload, "Unknown payload");

    public static RpcException InvalidForkchoiceState(string message = "Invalid forkchoice state") =>
        new(RpcErrorCodes.InvalidForkchoiceState, message);

    public static RpcException InvalidPayloadAttributes(string message = "Invalid payload attributes") =>
        new(RpcErrorCodes.InvalidPayloadAttributes, message);

    public static RpcException TooLargeRequest(string message = "Too large request") =>
        new(RpcErrorCodes.TooLargeRequest, message);

    public static RpcException UnsupportedFork(string message = "Unsupported fork") =>
        new(RpcErrorCodes.UnsupportedFork, message);

    public static RpcException TooDeepReorg(string message = "Too deep reorg") =>
        new(RpcErrorCodes.TooDeepReorg, message);
}
