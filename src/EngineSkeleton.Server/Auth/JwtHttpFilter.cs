using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Auth;

/// <summary>
/// The HTTP side of the Engine API JWT check: every request to an authenticated endpoint, WebSocket upgrades included,
/// must pass <see cref="JwtValidator"/> before anything else is read.
/// </summary>
internal static class JwtHttpFilter
{
    /// <summary>The check's result for the request's Authorization header: it may proceed only when valid.</summary>
    public static ValueTask<JwtValidationResult> ValidateAsync(HttpContext context, JwtValidator validator) =>
        validator.ValidateHeaderAsync(context.Request.Headers.Authorization.ToString());

    /// <summary>Answers a request that failed the check: 401 with the reason in a JSON-RPC error body.</summary>
    /// <remarks>
    /// geth (node/jwt_handler.go) answers 401 with a text/plain reason ("missing token", "stale token"...). docs/rpc.md
    /// asks for a JSON-RPC body, so the same reason goes into <c>{"jsonrpc":"2.0","id":null,"error":{"code":-32000,
    /// "message":...}}</c>: -32000 is geth's generic server error, and the id is null because the body was not read.
    /// </remarks>
    public static async Task RefuseAsync(HttpContext context, JwtValidationResult result)
    {
        var body = RpcWire.Error(default, RpcErrorCodes.ServerError, result.Message);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        // RFC 6750 §3: tell the client which scheme to use.
        context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
