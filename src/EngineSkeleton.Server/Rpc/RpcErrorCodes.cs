namespace EngineSkeleton.Server.Rpc;

/// <summary>JSON-RPC 2.0 and Engine API error codes (docs/rpc.md; execution-apis src/engine/common.md).</summary>
internal static class RpcErrorCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
    /// <summary>geth's generic server error; never used for "busy" (docs/sync.md, Engine wiring).</summary>
    public const int ServerError = -32000;
    public const int UnknownPayload = -38001;
    public const int InvalidForkchoiceState = -38002;
    public const int InvalidPayloadAttributes = -38003;
    public const int TooLargeRequest = -38004;
    public const int UnsupportedFork = -38005;
    public const int TooDeepReorg = -38006;
}
