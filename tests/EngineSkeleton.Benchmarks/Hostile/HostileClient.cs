using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>Which listener a request goes to.</summary>
internal enum Listener
{
    /// <summary>The public read-only RPC (<c>--http.port</c>), no JWT.</summary>
    Public,
    /// <summary>The Engine API (<c>--authrpc.port</c>) with a fresh valid JWT.</summary>
    Engine,
}

/// <summary>
/// Sends one request by each transport the campaign uses and reduces what came back to an answer class, a short
/// string compared with what the case expects: <c>http 200 rpc -32700</c>, <c>http 200 batch 1 rpc -32600</c>,
/// <c>http 415 rpc -32600</c>, <c>http 200 empty</c>, <c>ws rpc -32602</c>, <c>ws close 1007</c>, <c>ws http 401</c>,
/// <c>closed</c> (the connection ended without an answer).
/// </summary>
internal sealed class HostileClient(int publicPort, int enginePort, byte[] secret) : IDisposable
{
    /// <summary>Longest wait for one answer; slowloris connections have their own bound.</summary>
    public static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
    {
        Timeout = AnswerBound,
    };

    public int PublicPort => publicPort;

    public int EnginePort => enginePort;

    public Uri Url(Listener listener) => new($"http://127.0.0.1:{Port(listener)}/");

    public int Port(Listener listener) => listener == Listener.Public ? publicPort : enginePort;

    /// <summary>A valid Engine API token: HS256, iat = now.</summary>
    public string Token() => Jwt(secret, """{"alg":"HS256","typ":"JWT"}""", $"{{\"iat\":{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}");

    /// <summary>A token signed with <paramref name="key"/> over the given header and claims (for the bad-JWT cases).</summary>
    public static string Jwt(byte[] key, string header, string claims)
    {
        var input = B64(Encoding.UTF8.GetBytes(header)) + "." + B64(Encoding.UTF8.GetBytes(claims));
        return input + "." + B64(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(input)));
    }

    public byte[] Secret => secret;

    /// <summary>POSTs <paramref name="body"/>; <paramref name="bearer"/> null on the engine port means a fresh valid token.</summary>
    public async Task<string> PostAsync(Listener listener, byte[] body, string? contentType = "application/json", string? bearer = null, bool noToken = false, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(listener)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = null;
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (listener == Listener.Engine && !noToken)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + (bearer ?? Token()));
        }
        return await SendAsync(request, cancel);
    }

    public async Task<string> SendAsync(HttpRequestMessage request, CancellationToken cancel)
    {
        try
        {
            using var response = await _http.SendAsync(request, cancel);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancel);
            return Classify("http " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), bytes);
        }
        catch (HttpRequestException)
        {
            return "closed";
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            return "timeout";
        }
    }

    /// <summary>
    /// Opens a WebSocket (on the engine port with a valid token unless <paramref name="bearer"/> says otherwise), sends
    /// each message in turn and classifies each answer; the session's classes joined by " then ".
    /// </summary>
    public async Task<string> WebSocketAsync(Listener listener, IReadOnlyList<(byte[] Message, WebSocketMessageType Type)> messages, string? bearer = null, CancellationToken cancel = default)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.Proxy = null;
        if (listener == Listener.Engine)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + (bearer ?? Token()));
        }
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bound.CancelAfter(AnswerBound);
        try
        {
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{Port(listener)}/"), bound.Token);
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode == 0 ? "ws closed" : "ws http " + ((int)socket.HttpStatusCode).ToString(CultureInfo.InvariantCulture);
        }

        var classes = new List<string>(messages.Count);
        var buffer = new byte[64 * 1024];
        try
        {
            foreach (var (message, type) in messages)
            {
                await socket.SendAsync(message, type, endOfMessage: true, bound.Token);
                using var answer = new MemoryStream();
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, bound.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        classes.Add("ws close " + ((int?)result.CloseStatus ?? 0).ToString(CultureInfo.InvariantCulture));
                        return string.Join(" then ", classes);
                    }
                    answer.Write(buffer, 0, result.Count);
                    if (result.EndOfMessage)
                    {
                        break;
                    }
                }
                classes.Add(Classify("ws", answer.ToArray()));
            }
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, bound.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            classes.Add(socket.CloseStatus is { } status ? "ws close " + ((int)status).ToString(CultureInfo.InvariantCulture) : "ws closed");
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            classes.Add("ws timeout");
        }
        return string.Join(" then ", classes);
    }

    /// <summary>
    /// Writes <paramref name="head"/> on a raw TCP connection, then each of <paramref name="dribble"/> one every
    /// <paramref name="interval"/> (a slowloris client) until the server answers or closes, or <paramref name="bound"/>
    /// passes; returns the class and how long the server let the connection live.
    /// </summary>
    public async Task<(string Class, TimeSpan Held)> RawAsync(Listener listener, byte[] head, byte[]? dribble, TimeSpan interval, TimeSpan bound, CancellationToken cancel = default)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, Port(listener), cancel);
        var stream = client.GetStream();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stop.CancelAfter(bound);
        var reading = ReadResponseAsync(stream, stop.Token);
        try
        {
            await stream.WriteAsync(head, stop.Token);
            while (dribble is not null && !reading.IsCompleted && !stop.IsCancellationRequested)
            {
                await Task.WhenAny(reading, Task.Delay(interval, stop.Token));
                if (reading.IsCompleted)
                {
                    break;
                }
                await stream.WriteAsync(dribble, stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The server closed the connection under us, or the bound passed: the read says which.
        }

        string result;
        try
        {
            result = await reading;
        }
        catch (OperationCanceledException)
        {
            result = "held past bound";
        }
        return (result, started.Elapsed);
    }

    /// <summary>Reads one HTTP/1.1 response (status line, headers, Content-Length body); "closed" on EOF before it.</summary>
    private static async Task<string> ReadResponseAsync(NetworkStream stream, CancellationToken cancel)
    {
        var data = new List<byte>(1024);
        var buffer = new byte[4096];
        int headerEnd;
        try
        {
            while ((headerEnd = IndexOfHeaderEnd(data)) < 0)
            {
                var read = await stream.ReadAsync(buffer, cancel);
                if (read == 0)
                {
                    return "closed";
                }
                data.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return "closed";
        }

        var head = Encoding.ASCII.GetString([.. data.GetRange(0, headerEnd)]);
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ')[1];
        var length = 0;
        foreach (var line in lines.Skip(1))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.AsSpan("Content-Length:".Length).Trim(), CultureInfo.InvariantCulture);
            }
        }
        var body = data.Skip(headerEnd + 4).ToList();
        try
        {
            while (body.Count < length)
            {
                var read = await stream.ReadAsync(buffer, cancel);
                if (read == 0)
                {
                    break;
                }
                body.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // Body cut short: classify what arrived.
        }
        return Classify("http " + status, [.. body]);
    }

    private static int IndexOfHeaderEnd(List<byte> data)
    {
        for (var i = 0; i + 3 < data.Count; i++)
        {
            if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// <paramref name="prefix"/> and then: <c>empty</c>; <c>rpc CODE</c> or <c>result</c> for one answer;
    /// <c>batch N rpc CODE</c> when all N answers of a batch agree (else <c>batch N mixed</c>); <c>not-json</c>.
    /// </summary>
    public static string Classify(string prefix, ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return prefix + " empty";
        }
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                var kinds = root.EnumerateArray().Select(One).Distinct().ToList();
                return $"{prefix} batch {root.GetArrayLength()} " + (kinds.Count == 1 ? kinds[0] : "mixed");
            }
            return prefix + " " + One(root);
        }
        catch (JsonException)
        {
            return prefix + " not-json";
        }

        static string One(JsonElement answer) =>
            answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var code)
                ? "rpc " + code.GetRawText()
                : answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("result", out _) ? "result" : "other";
    }

    public void Dispose() => _http.Dispose();

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
