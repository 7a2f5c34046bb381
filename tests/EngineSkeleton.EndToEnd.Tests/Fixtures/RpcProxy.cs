using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>What <see cref="RpcProxy"/> does to one request.</summary>
public enum ProxyAction
{
    /// <summary>Forwarded, answer passed back unchanged.</summary>
    Forward,

    /// <summary>
    /// Forwarded, then one answer in the middle of the batch altered: a raw RLP answer gets one byte of its parent
    /// hash flipped (it still decodes, but hashes differently), a JSON block gets its stateRoot changed.
    /// </summary>
    AlterHeader,

    /// <summary>Forwarded, then only the first half of a batch's answers passed back.</summary>
    TruncateBatch,

    /// <summary>Not forwarded: HTTP 500.</summary>
    ServerError,

    /// <summary>Not forwarded: nothing is sent for <see cref="RpcProxy.StallBound"/>, then the connection is cut.</summary>
    Stall,

    /// <summary>Held (not forwarded) until <see cref="RpcProxy.Release"/> or <see cref="RpcProxy.HoldBound"/>, then forwarded.</summary>
    Hold,
}

/// <summary>One JSON-RPC request (a batch or a single call) as the proxy saw it.</summary>
/// <param name="Sequence">0 for the first request the proxy received.</param>
/// <param name="Methods">The methods called, in order.</param>
/// <param name="FirstParams">Each call's first parameter as JSON text ("0x3f", "\"0x…\""), or null.</param>
public sealed record ProxyRequest(int Sequence, IReadOnlyList<string> Methods, IReadOnlyList<string?> FirstParams)
{
    /// <summary>Every call is <paramref name="method"/>.</summary>
    public bool All(string method) => Methods.Count > 0 && Methods.All(m => m == method);

    /// <summary>A request for block data above the genesis (the capability probe asks for block 0 only).</summary>
    public bool AboveGenesis => FirstParams.Any(p => p is not null && p != "\"0x0\"");
}

/// <summary>A request and what the proxy did with it; <see cref="Outcome"/> says how it ended.</summary>
public sealed record ProxyExchange(ProxyRequest Request, ProxyAction Action, string Outcome);

/// <summary>
/// A loopback JSON-RPC proxy (Kestrel on a free 127.0.0.1 port) in front of a node, misbehaving per request as
/// <see cref="Rule"/> says: a lying or broken peer made of an honest one. Every request is recorded in
/// <see cref="Exchanges"/>; every wait is bounded.
/// </summary>
public sealed class RpcProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri _target;
    private readonly Lock _lock = new();
    private readonly List<ProxyExchange> _exchanges = [];
    private readonly TaskCompletionSource<ProxyRequest> _firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sequence = -1;

    private RpcProxy(WebApplication app, Uri target, int port)
    {
        _app = app;
        _target = target;
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The proxy's own URL, to hand to our node as a --sync.rpc peer.</summary>
    public Uri Url { get; }

    /// <summary>Decides per request; <see cref="ProxyAction.Forward"/> for everything by default.</summary>
    public Func<ProxyRequest, ProxyAction> Rule { get; set; } = static _ => ProxyAction.Forward;

    /// <summary>How long a stalled request gets no answer before the connection is cut.</summary>
    public TimeSpan StallBound { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>How long a held request waits for <see cref="Release"/> at most before it is forwarded anyway.</summary>
    public TimeSpan HoldBound { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Completes with the first request the rule held.</summary>
    public Task<ProxyRequest> FirstHeld => _firstHeld.Task;

    /// <summary>Every request so far, in the order they ended.</summary>
    public IReadOnlyList<ProxyExchange> Exchanges
    {
        get
        {
            lock (_lock)
            {
                return [.. _exchanges];
            }
        }
    }

    /// <summary>Starts a proxy to <paramref name="target"/> (a node's JSON-RPC URL) on <paramref name="port"/>, or a free one.</summary>
    public static async Task<RpcProxy> StartAsync(Uri target, int? port = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        return await StartOnAsync(target, port ?? FreePort.Next(), cancellationToken);
    }

    /// <summary>
    /// Starts a proxy whose URL sorts (ordinal) before <paramref name="other"/>: the peer set breaks ties between fresh
    /// peers by id, so such a proxy is asked first. Tries free loopback ports at random, a bounded number of times.
    /// </summary>
    public static async Task<RpcProxy> StartSortingBeforeAsync(Uri target, Uri other, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(other);
        var otherId = other.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        for (var attempt = 0; attempt < 256; attempt++)
        {
            var port = Random.Shared.Next(1024, 65536);
            if (string.CompareOrdinal(new Uri($"http://127.0.0.1:{port}/").GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), otherId) >= 0)
            {
                continue;
            }

            try
            {
                return await StartOnAsync(target, port, cancellationToken);
            }
            catch (IOException)
            {
                // Taken: try another.
            }
        }

        throw new InvalidOperationException($"no free loopback port sorting before {otherId} in 256 attempts");
    }

    private static async Task<RpcProxy> StartOnAsync(Uri target, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var proxy = new RpcProxy(app, target, port);
        app.Run(proxy.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }

        return proxy;
    }

    /// <summary>Lets held requests (and any later ones the rule holds) through.</summary>
    public void Release() => _released.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(aborted);
        var request = Describe(Interlocked.Increment(ref _sequence), body);
        var action = Rule(request);
        var outcome = "answered";
        try
        {
            switch (action)
            {
                case ProxyAction.ServerError:
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    outcome = "HTTP 500";
                    return;
                case ProxyAction.Stall:
                    // Bounded: the client may give up first; either way the connection ends without an answer.
                    await Task.Delay(StallBound, aborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                    context.Abort();
                    outcome = "stalled, then cut";
                    return;
                case ProxyAction.Hold:
                    _firstHeld.TrySetResult(request);
                    await _released.Task.WaitAsync(HoldBound, aborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                    if (aborted.IsCancellationRequested)
                    {
                        outcome = "held, client gave up";
                        return;
                    }
                    outcome = _released.Task.IsCompleted ? "held, released" : "held, bound passed";
                    break;
                default:
                    break;
            }

            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var upstream = await _upstream.PostAsync(_target, content, aborted);
            var answer = await upstream.Content.ReadAsStringAsync(aborted);
            answer = action switch
            {
                ProxyAction.AlterHeader => AlterOne(answer),
                ProxyAction.TruncateBatch => Truncate(answer),
                _ => answer,
            };
            context.Response.StatusCode = (int)upstream.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            outcome = "client gave up";
        }
        finally
        {
            lock (_lock)
            {
                _exchanges.Add(new ProxyExchange(request, action, outcome));
            }
        }
    }

    private static ProxyRequest Describe(int sequence, string body)
    {
        var methods = new List<string>();
        var firsts = new List<string?>();
        try
        {
            using var json = JsonDocument.Parse(body);
            IEnumerable<JsonElement> calls = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement.EnumerateArray() : [json.RootElement];
            foreach (var call in calls)
            {
                methods.Add(call.TryGetProperty("method", out var m) ? m.GetString() ?? "?" : "?");
                firsts.Add(call.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0 ? p[0].GetRawText() : null);
            }
        }
        catch (JsonException)
        {
            methods.Add("(not JSON)");
        }

        return new ProxyRequest(sequence, methods, firsts);
    }

    /// <summary>Alters the answer in the middle of the batch (or the single answer).</summary>
    private static string AlterOne(string answer)
    {
        var root = JsonNode.Parse(answer);
        var item = root is JsonArray array ? array[array.Count / 2] : root;
        if (item?["result"] is not { } result)
        {
            return answer;
        }

        if (result.GetValueKind() == JsonValueKind.String)
        {
            var hex = result.GetValue<string>();
            // Byte 10 of a header's RLP lies inside its parent hash (3-byte list prefix, 1-byte string prefix).
            var bytes = Convert.FromHexString(hex.AsSpan(2));
            bytes[Math.Min(10, bytes.Length - 1)] ^= 0x01;
            item["result"] = "0x" + Convert.ToHexStringLower(bytes);
        }
        else if (result is JsonObject block && block["stateRoot"] is { } stateRoot)
        {
            var text = stateRoot.GetValue<string>();
            block["stateRoot"] = text[..^1] + (text[^1] == '0' ? '1' : '0');
        }

        return root!.ToJsonString();
    }

    private static string Truncate(string answer) =>
        JsonNode.Parse(answer) is JsonArray { Count: > 1 } array
            ? new JsonArray([.. array.Take(array.Count / 2).Select(n => n?.DeepClone())]).ToJsonString()
            : answer;
}
