using System.Net.Http.Headers;
using EngineSkeleton.Sync.Peers;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// JSON-RPC 2.0 batches over HTTP POST to one URL, each request run through a resilience pipeline (per-attempt
/// timeout, retry with jitter, circuit breaker). Only failures in transit are retried; what arrives is parsed
/// once, outside the pipeline, and a malformed answer is a <see cref="PeerException"/> at once.
/// </summary>
internal sealed class JsonRpcClient
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Uri _url;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _pipeline;
    private readonly long _maxResponseBytes;

    public JsonRpcClient(Uri url, HttpClient http, RpcSyncPeerOptions options, TimeProvider time)
    {
        _url = url;
        _http = http;
        _maxResponseBytes = options.MaxResponseBytes;
        _pipeline = BuildPipeline(options, time);
    }

    /// <summary>Sends the calls as one batch and returns their answers in call order.</summary>
    public async Task<JsonRpcBatch> SendAsync(IReadOnlyList<JsonRpcCall> calls, CancellationToken cancellationToken)
    {
        var body = JsonRpcBatch.Write(calls);
        var answer = await _pipeline.ExecuteAsync(
            static (state, token) => state.Client.PostAsync(state.Body, state.Client.ReadBoundedAsync, token),
            (Client: this, Body: body),
            cancellationToken);
        return JsonRpcBatch.Parse(answer.Body, calls.Count, answer.Rented);
    }

    /// <summary>
    /// Sends the calls as one batch and passes each answer, as it arrives, to <paramref name="read"/> with its call's
    /// index (<see cref="JsonRpcStream"/>); what it returns is kept in the call's place. For answers too large to hold
    /// whole. A failure in transit retries the batch from its start, with a fresh array of results.
    /// </summary>
    public async Task<T?[]> SendStreamingAsync<T>(IReadOnlyList<JsonRpcCall> calls, Func<int, JsonRpcAnswer, T?> read, CancellationToken cancellationToken)
    {
        var body = JsonRpcBatch.Write(calls);
        return await _pipeline.ExecuteAsync(
            static (state, token) => state.Client.PostAsync(
                state.Body, (stream, _, readToken) => JsonRpcStream.ReadAsync(stream, state.Count, state.Client._maxResponseBytes, state.Read, readToken), token),
            (Client: this, Body: body, calls.Count, Read: read),
            cancellationToken);
    }

    /// <summary>Failures worth another attempt: the connection, the node's server side, or its silence.</summary>
    internal static bool IsTransient(Exception? exception) =>
        exception is HttpRequestException or IOException or TimeoutRejectedException or TransientRpcException;

    private static ResiliencePipeline BuildPipeline(RpcSyncPeerOptions options, TimeProvider time)
    {
        static ValueTask<bool> Transient(Outcome<object> outcome) => ValueTask.FromResult(IsTransient(outcome.Exception));

        // Outermost first: a retry wraps the breaker, so every attempt counts toward opening it and an open circuit
        // ends the retries; the timeout is innermost, so it bounds each attempt, not the whole request.
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => Transient(args.Outcome),
                MaxRetryAttempts = options.Retries,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => Transient(args.Outcome),
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakerDuration,
            })
            .AddTimeout(options.RequestTimeout)
            .Build();
    }

    /// <summary>Posts the batch and reads the answer's body with <paramref name="readBody"/> (given the Content-Length, if any).</summary>
    private async ValueTask<TAnswer> PostAsync<TAnswer>(
        byte[] body, Func<Stream, long?, CancellationToken, Task<TAnswer>> readBody, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = content };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            throw new TransientRpcException($"HTTP {status} {response.ReasonPhrase}");
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new PeerException($"HTTP {status} {response.ReasonPhrase}");
        }
        if (response.Content.Headers.ContentLength > _maxResponseBytes)
        {
            throw new PeerException($"answer of {response.Content.Headers.ContentLength} bytes is over the {_maxResponseBytes}-byte limit");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await readBody(stream, response.Content.Headers.ContentLength, cancellationToken);
    }

    /// <summary>
    /// The answer's body, read into a buffer rented from <see cref="JsonRpcBatch.AnswerBuffers"/> (sized by Content-Length when
    /// the node sends one, doubled as needed otherwise) that the batch returns when disposed: a batch of raw blocks is
    /// tens of megabytes, and a fresh array for each, grown by copying, filled the large-object heap faster than
    /// anything else in the sync (docs/benchmarks.md, Sync from a JSON-RPC peer).
    /// </summary>
    private async Task<(ReadOnlyMemory<byte> Body, byte[] Rented)> ReadBoundedAsync(Stream stream, long? announced, CancellationToken cancellationToken)
    {
        var buffer = JsonRpcBatch.AnswerBuffers.Rent((int)Math.Min(Math.Max(announced ?? 0, 16 * 1024), _maxResponseBytes));
        var length = 0;
        try
        {
            while (true)
            {
                var capacity = (int)Math.Min(buffer.Length, _maxResponseBytes);
                if (length == capacity)
                {
                    if (capacity == _maxResponseBytes)
                    {
                        // One byte past the limit tells an answer over it from one exactly at it.
                        if (await stream.ReadAsync(new byte[1], cancellationToken) > 0)
                        {
                            throw new PeerException($"answer is over the {_maxResponseBytes}-byte limit");
                        }
                        break;
                    }
                    var larger = JsonRpcBatch.AnswerBuffers.Rent((int)Math.Min((long)buffer.Length * 2, _maxResponseBytes));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    JsonRpcBatch.AnswerBuffers.Return(buffer);
                    buffer = larger;
                    continue;
                }
                var read = await stream.ReadAsync(buffer.AsMemory(length, capacity - length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return (buffer.AsMemory(0, length), buffer);
        }
        catch
        {
            JsonRpcBatch.AnswerBuffers.Return(buffer);
            throw;
        }
    }
}

/// <summary>A failure another attempt may cure: an HTTP 5xx from the node.</summary>
internal sealed class TransientRpcException : Exception
{
    public TransientRpcException(string message)
        : base(message)
    {
    }

    public TransientRpcException()
    {
    }

    public TransientRpcException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Names a resilience failure the way a peer status line should read.</summary>
internal static class RpcFailures
{
    public static string Describe(Exception exception, RpcSyncPeerOptions options) => exception switch
    {
        TimeoutRejectedException => $"no answer within {options.RequestTimeout.TotalSeconds:0.###} s ({options.Retries + 1} attempts)",
        BrokenCircuitException => "circuit open: recent requests to this node failed",
        TransientRpcException e => $"{e.Message} ({options.Retries + 1} attempts)",
        HttpRequestException e => $"transport error: {e.Message}",
        IOException e => $"transport error: {e.Message}",
        OperationCanceledException => "request cancelled by the HTTP stack (HttpClient.Timeout?)",
        _ => $"unexpected {exception.GetType().Name}: {exception.Message}",
    };
}
