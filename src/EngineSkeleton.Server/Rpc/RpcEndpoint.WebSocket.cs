using System.Net.WebSockets;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// WebSocket transport on the endpoint's path: a <see cref="JsonRpc"/> per connection over StreamJsonRpc's
/// <see cref="WebSocketMessageHandler"/>, with the same targets. The JWT (if any) was checked on the upgrade request.
/// </summary>
/// <remarks>
/// StreamJsonRpc reads one request object per WebSocket message: batches are an HTTP feature here, and a message that
/// is not JSON ends the session (a close, not a crash).
/// </remarks>
internal sealed partial class RpcEndpoint
{
    /// <summary>How long we wait for the peer's close frame before dropping the connection.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private async Task ServeWebSocketAsync(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "?";
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        Log.WebSocketOpened(_logger, Options.Name, remote);
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = _json };
        using var bounded = new BoundedWebSocket(socket, Options.MaxRequestBodyBytes);
        using var rpc = new TargetJsonRpc(new SanitizingWebSocketMessageHandler(bounded, formatter), _methods, _logger, Options.Name, _observer);
        var reason = "closed";
        var status = WebSocketCloseStatus.NormalClosure;
        rpc.Disconnected += (_, e) =>
        {
            reason = e.Reason.ToString();
            if (e.Reason == DisconnectedReason.ParseError)
            {
                status = WebSocketCloseStatus.InvalidPayloadData;
            }
        };
        rpc.StartListening();
        try
        {
            await rpc.Completion.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Parse errors and dropped connections end here; both only end this session.
            reason = ex.GetType().Name;
        }

        // Finish the close handshake ourselves (the handler leaves the socket open): a client sees why, not a reset.
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                await socket.CloseAsync(status, status == WebSocketCloseStatus.InvalidPayloadData ? "parse error" : null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // Peer gone.
            }
        }

        Log.WebSocketClosed(_logger, Options.Name, remote, reason);
    }

    /// <summary>Applies <see cref="TargetJsonRpc.Sanitize"/> to answers before they go on the socket.</summary>
    private sealed class SanitizingWebSocketMessageHandler(WebSocket socket, IJsonRpcMessageFormatter formatter)
        : WebSocketMessageHandler(socket, formatter)
    {
        protected override ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken cancellationToken)
        {
            TargetJsonRpc.Sanitize(content);
            return base.WriteCoreAsync(content, cancellationToken);
        }
    }
}
