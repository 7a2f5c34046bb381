using System.Net.WebSockets;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// Caps one received WebSocket message at the endpoint's body cap (geth caps WebSocket reads too, 32 MiB by default):
/// StreamJsonRpc's WebSocketMessageHandler buffers a whole message however large. Over the cap the session is closed
/// with 1009 (message too big).
/// </summary>
internal sealed class BoundedWebSocket(WebSocket inner, long maxMessageBytes) : WebSocket
{
    private long _messageBytes;

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

    public override string? CloseStatusDescription => inner.CloseStatusDescription;

    public override WebSocketState State => inner.State;

    public override string? SubProtocol => inner.SubProtocol;

    public override void Abort() => inner.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Dispose() => inner.Dispose();

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        await CountAsync(result.MessageType, result.Count, result.EndOfMessage, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        await CountAsync(result.MessageType, result.Count, result.EndOfMessage, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    private async ValueTask CountAsync(WebSocketMessageType type, int count, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (type == WebSocketMessageType.Close)
        {
            return;
        }

        _messageBytes += count;
        if (_messageBytes > maxMessageBytes)
        {
            await inner.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "message too big", cancellationToken).ConfigureAwait(false);
            throw new WebSocketException(WebSocketError.Faulted, $"WebSocket message over {maxMessageBytes} bytes");
        }

        if (endOfMessage)
        {
            _messageBytes = 0;
        }
    }
}
