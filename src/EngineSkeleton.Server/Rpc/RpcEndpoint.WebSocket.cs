using System.Net.WebSockets;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// WebSocket transport on the endpoint's path. Each message is a body, answered exactly as an HTTP request's (the same
/// parser, batch cap and shared dispatcher, see <see cref="AnswerAsync"/>): -32700 for a message that is not JSON,
/// -32600 for an invalid request or a batch over the cap, the answers of a batch as one array. A message that is not
/// JSON costs only itself — WebSocket framing says where the next one starts, unlike geth's stream decoder, which has to
/// drop the connection. The JWT (if any) was checked on the upgrade request.
/// </summary>
/// <remarks>
/// Until the hostile benchmark this was a StreamJsonRpc <c>JsonRpc</c> per session over its WebSocketMessageHandler: a
/// message that was not JSON closed the session with 1000 (normal closure, though 1007 was meant) and no JSON-RPC
/// error, and a batch was a parse error. Calls of one session run concurrently, up to
/// <see cref="MaxInFlightPerSession"/>, as geth runs each call of a connection on its own goroutine; the next message is
/// read only when a slot frees, so a client that never reads its answers stalls only itself.
/// </remarks>
internal sealed partial class RpcEndpoint
{
    /// <summary>How long we wait for the peer's close frame, and for answers still being computed, before dropping the connection.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Messages of one session being answered at once. 16: a consensus client's engine calls are a handful per slot;
    /// geth bounds nothing here, but an unbounded count lets one session queue the whole body cap times N.
    /// </summary>
    internal const int MaxInFlightPerSession = 16;

    /// <summary>First receive buffer of a session; it doubles up to the body cap as messages need.</summary>
    private const int InitialMessageBuffer = 4 * 1024;

    private async Task ServeWebSocketAsync(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "?";
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        Log.WebSocketOpened(_logger, Options.Name, remote);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        using var writeGate = new SemaphoreSlim(1, 1);
        using var slots = new SemaphoreSlim(MaxInFlightPerSession, MaxInFlightPerSession);
        var inFlight = new List<Task>(MaxInFlightPerSession);
        var status = WebSocketCloseStatus.NormalClosure;
        string? description = null;
        var reason = "closed by peer";
        var cap = (int)Options.MaxRequestBodyBytes;
        var buffer = new byte[Math.Min(InitialMessageBuffer, cap + 1)];
        try
        {
            while (true)
            {
                await slots.WaitAsync(session.Token).ConfigureAwait(false);
                inFlight.RemoveAll(t => t.IsCompleted);
                var used = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (used == buffer.Length)
                    {
                        Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, cap + 1L));
                    }

                    received = await socket.ReceiveAsync(buffer.AsMemory(used), session.Token).ConfigureAwait(false);
                    used += received.Count;
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close && used <= cap);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (used > cap)
                {
                    // geth caps WebSocket reads too (32 MiB by default); here the endpoint's body cap, closed with 1009.
                    (status, description, reason) = (WebSocketCloseStatus.MessageTooBig, "message too big", $"message over {cap} bytes");
                    break;
                }

                inFlight.Add(AnswerMessageAsync(socket, buffer.AsSpan(0, used).ToArray(), writeGate, slots, session.Token));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            // Broken framing, invalid UTF-8 in a text frame (the runtime fails the connection itself), a reset: they
            // end this session only, and are the client's doing, not an error of ours to log.
            reason = ex.Message;
        }
        catch (OperationCanceledException)
        {
            reason = "connection aborted";
        }

        // Answers still being computed are for a client that is leaving or has broken the protocol: cancel them.
        await session.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(inFlight).WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Left to finish on their own; their writes fail on the closed socket.
        }

        // Finish the close handshake ourselves: a client sees why, not a reset. (A text frame that is not UTF-8 never
        // gets here with the socket open: the runtime fails the connection itself, as RFC 6455 §8.1 requires.)
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                await socket.CloseAsync(status, description, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // Peer gone.
            }
        }

        Log.WebSocketClosed(_logger, Options.Name, remote, reason);
    }

    /// <summary>Answers one message (nothing for notifications or a blank message) and frees its slot.</summary>
    private async Task AnswerMessageAsync(WebSocket socket, byte[] message, SemaphoreSlim writeGate, SemaphoreSlim slots, CancellationToken cancel)
    {
        try
        {
            if (IsWhitespace(message))
            {
                return;
            }

            var answers = await AnswerAsync(message, cancel).ConfigureAwait(false);
            if (answers.List.Count == 0)
            {
                return;
            }

            var bytes = answers.Batch ? JoinBatch(answers.List) : answers.List[0];
            await writeGate.WaitAsync(cancel).ConfigureAwait(false);
            try
            {
                // Not with the session's token: cancelling a send in flight aborts the whole socket (ManagedWebSocket), and
                // the session is cancelled as soon as the client's close arrives — which can be while the last answer's
                // flush is still completing (seen in HostileClientTests as a reset instead of the close handshake). A
                // send that never completes ends with the connection, after CloseTimeout.
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                writeGate.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The session is ending.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug of ours: logged; the session goes on (the HTTP transport answers -32603 for the same).
            Log.Unhandled(_logger, Options.Name, ex);
        }
        finally
        {
            try
            {
                slots.Release();
            }
            catch (ObjectDisposedException)
            {
                // Finished after the session.
            }
        }
    }

    private static byte[] JoinBatch(List<byte[]> answers)
    {
        var length = 1 + answers.Count;
        foreach (var answer in answers)
        {
            length += answer.Length;
        }

        var joined = GC.AllocateUninitializedArray<byte>(length);
        joined[0] = (byte)'[';
        var at = 1;
        for (var i = 0; i < answers.Count; i++)
        {
            if (i > 0)
            {
                joined[at++] = (byte)',';
            }

            answers[i].CopyTo(joined, at);
            at += answers[i].Length;
        }

        joined[at] = (byte)']';
        return joined;
    }
}
