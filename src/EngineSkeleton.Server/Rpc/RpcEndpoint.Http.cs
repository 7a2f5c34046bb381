using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace EngineSkeleton.Server.Rpc;

/// <summary>HTTP transport, following geth rpc/http.go (ServeHTTP, validateRequest) and rpc/handler.go (batches).</summary>
internal sealed partial class RpcEndpoint
{
    private const string JsonContentType = "application/json";

    /// <summary>geth rpc/http.go <c>acceptedContentTypes</c> (from the JSON-RPC over HTTP draft); parameters such as
    /// <c>charset</c> are ignored, as Go's mime.ParseMediaType does.</summary>
    private static readonly string[] AcceptedContentTypes = [JsonContentType, "application/json-rpc", "application/jsonrequest"];

    private static ReadOnlySpan<byte> EmptyBatchItems => "[]"u8;

    private async Task ServeHttpAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var request = context.Request;
        var response = context.Response;

        // geth: "Permit dumb empty requests for remote health-checks (AWS)".
        if (HttpMethods.IsGet(request.Method) && IsBodyless(request) && !request.QueryString.HasValue)
        {
            response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        if (HttpMethods.IsPut(request.Method) || HttpMethods.IsDelete(request.Method))
        {
            await RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, "method not allowed").ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > Options.MaxRequestBodyBytes)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, $"content length too large ({request.ContentLength}>{Options.MaxRequestBodyBytes})").ConfigureAwait(false);
            return;
        }

        // geth lets OPTIONS through whatever its content type (CORS preflights carry none).
        if (!HttpMethods.IsOptions(request.Method) && !IsAcceptedContentType(request.ContentType))
        {
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType, $"invalid content type, only {JsonContentType} is supported").ConfigureAwait(false);
            return;
        }

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        response.ContentType = JsonContentType;
        if (IsWhitespace(body.Value.Span))
        {
            // geth reads EOF and answers nothing.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentLength = 0;
            return;
        }

        var cancel = context.RequestAborted;
        Answers answers;
        try
        {
            answers = await AnswerAsync(body.Value, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return;
        }

        var length = await WriteAnswersAsync(response, answers.List, answers.Batch, cancel).ConfigureAwait(false);
        Log.Served(_logger, Options.Name, answers.Items, response.StatusCode, length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>What one body (an HTTP request's, or a WebSocket message's) is answered with.</summary>
    /// <param name="List">The answers in order; empty when only notifications came.</param>
    /// <param name="Batch">Written as a JSON array.</param>
    /// <param name="Items">Request objects in the body, for the logs.</param>
    private readonly record struct Answers(List<byte[]> List, bool Batch, int Items);

    /// <summary>
    /// Parses, checks and dispatches one body by geth's rules: -32700 for what is not one JSON value, -32600 for an
    /// empty or too long batch (one error, in an array, with the first call's id: geth respondWithBatchTooLarge), and
    /// each request of a batch one after another, in order, as geth's handleBatch — a newPayload and the
    /// forkchoiceUpdated that follows it in the same batch must not race.
    /// </summary>
    private async Task<Answers> AnswerAsync(ReadOnlyMemory<byte> body, CancellationToken cancel)
    {
        var answers = new List<byte[]>(1);
        if (!RpcRequestParser.TryParse(body, _methods, Options.MaxBatchItems, out var parsed, out var batch, out var length))
        {
            answers.Add(RpcWire.Error(default, RpcErrorCodes.ParseError, "parse error"));
            return new Answers(answers, false, 1);
        }

        if (batch && length == 0)
        {
            answers.Add(RpcWire.Error(default, RpcErrorCodes.InvalidRequest, "empty batch"));
            return new Answers(answers, false, 0);
        }

        if (batch && length > Options.MaxBatchItems)
        {
            var first = Array.Find(parsed, p => p.Kind == RpcItemKind.Dispatch && !p.IsNotification);
            answers.Add(RpcWire.Error(first.Id.Span, RpcErrorCodes.InvalidRequest, "batch too large"));
            return new Answers(answers, true, length);
        }

        foreach (var item in parsed)
        {
            var answer = item.Kind switch
            {
                RpcItemKind.Answer => item.Answer,
                RpcItemKind.Dispatch => await Channel.DispatchAsync(item, cancel).ConfigureAwait(false),
                _ => null,
            };
            if (answer is not null)
            {
                answers.Add(answer);
            }
        }

        return new Answers(answers, batch, length);
    }

    /// <summary>One answer as is; a batch as an array of the answers (notifications have none); nothing at all → empty 200, as geth.</summary>
    private static async Task<long> WriteAnswersAsync(HttpResponse response, List<byte[]> answers, bool batch, CancellationToken cancel)
    {
        response.StatusCode = StatusCodes.Status200OK;
        if (answers.Count == 0)
        {
            response.ContentLength = 0;
            return 0;
        }

        long length = batch ? 1 + answers.Count : 0;
        foreach (var answer in answers)
        {
            length += answer.Length;
        }

        response.ContentLength = length;
        var writer = response.BodyWriter;
        try
        {
            if (batch)
            {
                writer.Write(EmptyBatchItems[..1]);
            }

            for (var i = 0; i < answers.Count; i++)
            {
                if (batch && i > 0)
                {
                    writer.Write(","u8);
                }

                writer.Write(answers[i]);
            }

            if (batch)
            {
                writer.Write(EmptyBatchItems[1..]);
            }

            await writer.FlushAsync(cancel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Client gone.
        }

        return length;
    }

    /// <summary>Reads the body up to the cap; null when the request was answered (413, 400) or abandoned.</summary>
    private async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext context)
    {
        var cap = (int)Options.MaxRequestBodyBytes;
        // Kestrel's own default cap is 30 MB; ours is the endpoint's.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = cap;
        }

        // Grow as bytes arrive rather than trusting Content-Length for the allocation.
        var buffer = new byte[(int)Math.Min(context.Request.ContentLength ?? 16 * 1024, Math.Min(cap, 1024 * 1024)) + 1];
        var used = 0;
        var stream = context.Request.Body;
        try
        {
            while (true)
            {
                if (used == buffer.Length)
                {
                    if (used > cap)
                    {
                        break;
                    }

                    Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, (long)cap + 1));
                }

                var read = await stream.ReadAsync(buffer.AsMemory(used), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                used += read;
            }
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own verdict on the body: 413 over its cap, 408 for a body slower than MinRequestBodyDataRate
            // (a slowloris client; the hostile benchmark found it answered 400), 400 for broken chunking.
            var (status, reason) = ex.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => (StatusCodes.Status413PayloadTooLarge, $"request body too large (>{cap})"),
                StatusCodes.Status408RequestTimeout => (StatusCodes.Status408RequestTimeout, "request body too slow"),
                _ => (StatusCodes.Status400BadRequest, "unreadable request body"),
            };
            await RefuseAsync(context, status, reason).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return null;
        }

        if (used > cap)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body too large (>{cap})").ConfigureAwait(false);
            return null;
        }

        return buffer.AsMemory(0, used);
    }

    /// <summary>
    /// Transport-level refusals keep geth's status codes and messages; the body is a JSON-RPC error (id null) rather
    /// than geth's text/plain so that JSON clients can show the reason.
    /// </summary>
    private async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        Log.Refused(_logger, Options.Name, status, reason);
        if (context.Response.HasStarted)
        {
            return;
        }

        var body = RpcWire.Error(default, RpcErrorCodes.InvalidRequest, reason);
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = body.Length;
        if (status is StatusCodes.Status413PayloadTooLarge or StatusCodes.Status408RequestTimeout)
        {
            // The rest of the body is not read; don't let Kestrel drain up to its own cap.
            context.Response.Headers.Connection = "close";
        }

        try
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Client gone.
        }
    }

    private static bool IsAcceptedContentType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || !parsed.MediaType.HasValue)
        {
            return false;
        }

        foreach (var accepted in AcceptedContentTypes)
        {
            if (parsed.MediaType.Equals(accepted, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsBodyless(HttpRequest request) =>
        request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.ContainsKey(HeaderNames.TransferEncoding));

    private static bool IsWhitespace(ReadOnlySpan<byte> body) =>
        body.IndexOfAnyExcept(" \t\r\n"u8) < 0;
}
