using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Server.Tests.Auth;
using Microsoft.Extensions.Time.Testing;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Tests.Rpc;

/// <summary>
/// Two endpoints as the node has them (public without JWT, engine with it) on real Kestrel, with small caps and short
/// slowloris timeouts so each malformed class is answered within a test's time.
/// </summary>
public sealed class HostileHostsFixture : IAsyncLifetime
{
    public const int BodyCap = 1024 * 1024;

    public const int BatchCap = 100;

    /// <summary>The engine endpoint's clock: tokens are minted at its "now".</summary>
    internal FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeSeconds(1_750_000_000));

    internal static byte[] Secret { get; } = JwtTestTokens.HiveSecret;

    internal RpcTestHost Public { get; private set; } = null!;

    internal RpcTestHost Engine { get; private set; } = null!;

    internal GatherTarget Gather { get; } = new();

    public async Task InitializeAsync()
    {
        var options = new RpcEndpointOptions("public", RequireJwt: false, BodyCap) { MaxBatchItems = BatchCap };
        Public = await RpcTestHost.StartAsync(options, new HostileTarget(Gather), kestrel: Kestrel);
        Engine = await RpcTestHost.StartAsync(options with { Name = "engine", RequireJwt = true }, new HostileTarget(Gather), new JwtValidator(JwtSecret.FromBytes(Secret), Time), Kestrel);
    }

    public async Task DisposeAsync()
    {
        await Public.DisposeAsync();
        await Engine.DisposeAsync();
    }

    internal string Token() => JwtTestTokens.Hs256(Secret, Time.GetUtcNow().ToUnixTimeSeconds());

    /// <summary>Kestrel's slowloris limits, shortened from 30 s / 5 s (the grace must exceed 1 s) so a test sees them act.</summary>
    private static void Kestrel(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions k)
    {
        k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
        k.Limits.MinRequestBodyDataRate = new(240, TimeSpan.FromSeconds(2));
    }
}

/// <summary>Methods shaped like the node's: a number, typed arguments, a hash-like string.</summary>
internal sealed class HostileTarget(GatherTarget gather)
{
    [JsonRpcMethod("eth_blockNumber")]
    public static string BlockNumber() => "0x36";

    [JsonRpcMethod("test_add")]
    public static long Add(long a, long b) => a + b;

    /// <summary>A 32-byte hash as eth_getBlockByHash takes it (a JsonElement, checked by hand): anything else is -32602.</summary>
    [JsonRpcMethod("test_hash")]
    public static string Hash(JsonElement hash = default) =>
        hash.ValueKind != JsonValueKind.String ? throw RpcException.InvalidParams("invalid argument 0: not a string")
        : hash.GetString() is { Length: 66 } text && text.StartsWith("0x", StringComparison.Ordinal) ? text
        : throw RpcException.InvalidParams("invalid argument 0: hex string has length " + (hash.GetString()!.Length - 2) + ", want 64 for common.Hash");

    [JsonRpcMethod("test_gather")]
    public Task<int> GatherAsync() => gather.ArriveAsync();
}

/// <summary>Holds every test_gather call until <see cref="Expected"/> are in flight at once, then answers them all.</summary>
internal sealed class GatherTarget
{
    private TaskCompletionSource<int> _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public int Expected { get; private set; }

    public void Arm(int expected)
    {
        Expected = expected;
        _arrived = 0;
        _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task<int> ArriveAsync()
    {
        var all = _all;
        if (Interlocked.Increment(ref _arrived) == Expected)
        {
            all.TrySetResult(Expected);
        }

        return await all.Task.WaitAsync(RpcTestHost.Timeout).ConfigureAwait(false);
    }
}

/// <summary>
/// The hostile-client classes of the hostile benchmark (docs/benchmarks.md, "Hostile clients and 1,000 connections") in
/// CI size, each with its exact answer; the storm and the connection count are sized by HOSTILE_REQUESTS and
/// HOSTILE_CONNECTIONS.
/// </summary>
public sealed class HostileClientTests(HostileHostsFixture fixture) : IClassFixture<HostileHostsFixture>
{
    private const string ParseError = """{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}""";

    private static readonly string Valid = """{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}""";

    private static readonly string ValidAnswer = """{"jsonrpc":"2.0","id":1,"result":"0x36"}""";

    /// <summary>What each malformed body is answered with, on either port: proves, body, status, exact answer.</summary>
    public static TheoryData<string, string, HttpStatusCode, string> Bodies => new()
    {
        { "truncated JSON is a parse error",
            """{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[""", HttpStatusCode.OK, ParseError },
        { "a truncated batch is one parse error, not a batch",
            """[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":""", HttpStatusCode.OK, ParseError },
        { "100,000 '[' is a parse error at depth 65, not a stack overflow",
            new string('[', 100_000), HttpStatusCode.OK, ParseError },
        { "balanced nesting 10,000 deep in params is a parse error too",
            """{"jsonrpc":"2.0","id":1,"method":"test_hash","params":[""" + new string('[', 10_000) + new string(']', 10_000) + "]}", HttpStatusCode.OK, ParseError },
        { "a 128 KB hex string where a hash goes is invalid params",
            """{"jsonrpc":"2.0","id":1,"method":"test_hash","params":["0x""" + new string('a', 128 * 1024) + "\"]}", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid argument 0: hex string has length 131072, want 64 for common.Hash"}}""" },
        { "a 10,000-entry batch is one -32600 in an array with the first call's id",
            "[" + string.Join(',', Enumerable.Range(0, 10_000).Select(i => $$"""{"jsonrpc":"2.0","id":{{i + 5}},"method":"eth_blockNumber"}""")) + "]", HttpStatusCode.OK,
            """[{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"batch too large"}}]""" },
        { "a 100,000-entry batch of numbers is one -32600 (with id null: no calls)",
            "[" + string.Join(',', Enumerable.Repeat("1", 100_000)) + "]", HttpStatusCode.OK,
            """[{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}]""" },
        { "a string where a typed number goes is invalid params (the serializer's reason, no CLR signature)",
            """{"jsonrpc":"2.0","id":1,"method":"test_add","params":["a",{}]}""", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid argument: Either the JSON value is not in a supported format, or is out of bounds for an Int64."}}""" },
        { "a number where a hash goes is invalid params",
            """{"jsonrpc":"2.0","id":1,"method":"test_hash","params":[12345]}""", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid argument 0: not a string"}}""" },
        { "params as an object is -32602 non-array args",
            """{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":{"a":1}}""", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"non-array args"}}""" },
        { "a number as the method is an invalid request",
            """{"jsonrpc":"2.0","id":1,"method":42}""", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "an object as the id is an invalid request with id null",
            """{"jsonrpc":"2.0","id":{},"method":"eth_blockNumber"}""", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "a 200 KB method name is refused by length",
            """{"jsonrpc":"2.0","id":1,"method":"eth_""" + new string('a', 200 * 1024) + "\"}", HttpStatusCode.OK,
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"method name too long: 204804 \u003E 2048"}}""" },
        { "an empty body is an empty 200, as geth",
            "", HttpStatusCode.OK, "" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Each_malformed_body_gets_its_exact_answer_on_both_ports(string proves, string body, HttpStatusCode status, string expected)
    {
        foreach (var (name, host, token) in Hosts())
        {
            var (actualStatus, _, answer) = await host.PostAsync(body, bearer: token);
            Assert.True(status == actualStatus && expected == answer, $"{proves} ({name})\n  expected {(int)status} {expected}\n  actual   {(int)actualStatus} {answer}");
        }
    }

    [Fact]
    public void A_batch_over_the_cap_is_counted_past_the_cap_not_inspected()
    {
        // Regression (hostile benchmark): 2,000,000 items of [1,1,...] became 2,000,000 error answers (~400 MB) before
        // the cap was looked at.
        var body = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Repeat("1", 100_000)) + "]");
        var methods = RpcMethodTable.Build([new HostileTarget(new GatherTarget())]);
        Assert.True(RpcRequestParser.TryParse(body, methods, HostileHostsFixture.BatchCap, out var items, out var batch, out var length));
        Assert.True(batch);
        Assert.Equal(100_000, length);
        Assert.Equal(HostileHostsFixture.BatchCap + 1, items.Length);
        Assert.False(RpcRequestParser.TryParse(body.AsMemory(0, body.Length - 1), methods, HostileHostsFixture.BatchCap, out _, out _, out _));
    }

    [Fact]
    public async Task Invalid_UTF8_is_a_parse_error_on_both_ports()
    {
        byte[] body = [.. """{"jsonrpc":"2.0","id":1,"method":"eth_block"""u8, 0xff, 0xfe, .. "\"}"u8];
        foreach (var (name, host, token) in Hosts())
        {
            using var request = Post(host, body, token);
            var (status, _, answer) = await host.SendAsync(request);
            Assert.True(status == HttpStatusCode.OK && answer == ParseError, $"{name}: {(int)status} {answer}");
        }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData(null)]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task A_wrong_content_type_is_415_on_both_ports(string? contentType)
    {
        foreach (var (name, host, token) in Hosts())
        {
            var (status, _, answer) = await host.PostAsync(Valid, contentType, token);
            Assert.True(
                status == HttpStatusCode.UnsupportedMediaType && answer == """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid content type, only application/json is supported"}}""",
                $"{name}: {(int)status} {answer}");
        }
    }

    public static TheoryData<string, string?, string> BadTokens => new()
    {
        { "no token", null, "missing token" },
        { "not a JWT", "not.a.jwt", "malformed token" },
        { "another key", JwtTestTokens.Hs256(new byte[32], 1_750_000_000), "signature is invalid" },
        { "iat 120 s old", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, 1_750_000_000 - 120), "stale token" },
        { "alg none", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, 1_750_000_000, alg: "none"), "signing method none is invalid, only HS256 is accepted" },
        { "a 16 KB token", new string('a', 16 * 1024), "malformed token" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_401_naming_the_reason_over_HTTP_and_on_the_WebSocket_upgrade(string proves, string? token, string reason)
    {
        var (status, _, answer) = await fixture.Engine.PostAsync(Valid, bearer: token);
        Assert.True(
            status == HttpStatusCode.Unauthorized && answer == $$$"""{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"{{{reason}}}"}}""",
            $"{proves}: {(int)status} {answer}");

        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUri(fixture.Engine), CancellationToken.None).WaitAsync(RpcTestHost.Timeout));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task A_Content_Length_over_the_cap_is_413_before_the_body_is_read()
    {
        foreach (var (name, host, token) in Hosts())
        {
            var answer = await RawAsync(host, Head(token, "Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n{"));
            Assert.True(
                answer.StartsWith("HTTP/1.1 413 ", StringComparison.Ordinal)
                && answer.EndsWith($$$"""{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"content length too large (300000000\u003E{{{HostileHostsFixture.BodyCap}}})"}}""", StringComparison.Ordinal),
                $"{name}: {answer}");
        }
    }

    [Fact]
    public async Task A_64_KB_header_is_431_from_Kestrel()
    {
        foreach (var (name, host, token) in Hosts())
        {
            var answer = await RawAsync(host, Head(token, $"Content-Type: application/json\r\nContent-Length: 2\r\nX-Big: {new string('x', 64 * 1024)}\r\n\r\n{{}}"));
            Assert.True(answer.StartsWith("HTTP/1.1 431 ", StringComparison.Ordinal), $"{name}: {answer}");
        }
    }

    [Fact]
    public async Task Headers_that_stop_coming_are_408_after_RequestHeadersTimeout()
    {
        foreach (var (name, host, _) in Hosts())
        {
            // Half a request, then silence: a slowloris client that has stopped dribbling.
            var answer = await RawAsync(host, Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n"));
            Assert.True(answer.StartsWith("HTTP/1.1 408 ", StringComparison.Ordinal), $"{name}: {answer}");
        }
    }

    [Fact]
    public async Task A_body_that_stops_coming_is_408_with_a_JSON_RPC_reason_not_400()
    {
        // Regression (hostile benchmark): Kestrel's MinRequestBodyDataRate verdict was answered 400 "unreadable request body".
        foreach (var (name, host, token) in Hosts())
        {
            var answer = await RawAsync(host, Head(token, "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[ "));
            Assert.True(
                answer.StartsWith("HTTP/1.1 408 ", StringComparison.Ordinal)
                && answer.EndsWith("""{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request body too slow"}}""", StringComparison.Ordinal),
                $"{name}: {answer}");
        }
    }

    public static TheoryData<string, string, string> WebSocketMessages => new()
    {
        { "truncated JSON is answered -32700 and the session goes on (it was closed with 1000 and no answer)",
            """{"jsonrpc":"2.0","id":1,"method":""", ParseError },
        { "100,000 '[' is -32700 over the socket too",
            new string('[', 100_000), ParseError },
        { "a batch is answered as over HTTP (it was a parse error that closed the session)",
            "[" + Valid + "," + Valid.Replace("\"id\":1", "\"id\":2", StringComparison.Ordinal) + "]",
            "[" + ValidAnswer + "," + ValidAnswer.Replace("\"id\":1", "\"id\":2", StringComparison.Ordinal) + "]" },
        { "a batch over the cap is one -32600 in an array",
            "[" + string.Join(',', Enumerable.Repeat(Valid, HostileHostsFixture.BatchCap + 1)) + "]",
            """[{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"batch too large"}}]""" },
        { "a wrong type is invalid params",
            """{"jsonrpc":"2.0","id":1,"method":"test_hash","params":[12345]}""",
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid argument 0: not a string"}}""" },
        { "an object as the id is an invalid request",
            """{"jsonrpc":"2.0","id":{},"method":"eth_blockNumber"}""",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}""" },
    };

    [Theory]
    [MemberData(nameof(WebSocketMessages))]
    public async Task Each_malformed_message_is_answered_and_the_session_still_serves(string proves, string message, string expected)
    {
        foreach (var (name, host, token) in Hosts())
        {
            using var socket = await ConnectAsync(host, token);
            var answer = await RpcWebSocketTests.ExchangeAsync(socket, message);
            Assert.True(expected == answer, $"{proves} ({name})\n  expected {expected}\n  actual   {answer}");
            Assert.Equal(ValidAnswer, await RpcWebSocketTests.ExchangeAsync(socket, Valid));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        }
    }

    [Fact]
    public async Task Invalid_UTF8_in_a_binary_message_is_a_parse_error_and_in_a_text_frame_fails_only_that_connection()
    {
        byte[] invalid = [.. """{"jsonrpc":"2.0","id":1,"method":"eth_block"""u8, 0xff, 0xfe, .. "\"}"u8];
        using (var binary = await ConnectAsync(fixture.Public, null))
        {
            await binary.SendAsync(invalid, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
            var buffer = new byte[1024];
            var received = await binary.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
            Assert.Equal(ParseError, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        using (var text = await ConnectAsync(fixture.Public, null))
        {
            // RFC 6455 §8.1: the endpoint MUST fail the connection (a close frame is optional, §7.1.7).
            await text.SendAsync(invalid, WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
            try
            {
                var received = await text.ReceiveAsync(new byte[1024], CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
                Assert.Equal(WebSocketMessageType.Close, received.MessageType);
                Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, received.CloseStatus);
            }
            catch (WebSocketException)
            {
                // Failed without a close frame: also what §7.1.7 allows.
            }
        }

        using var next = await ConnectAsync(fixture.Public, null);
        Assert.Equal(ValidAnswer, await RpcWebSocketTests.ExchangeAsync(next, Valid));
    }

    [Fact]
    public async Task A_storm_of_every_class_on_both_ports_gets_only_the_exact_answers_and_no_5xx()
    {
        var count = SizeFromEnvironment("HOSTILE_REQUESTS", 2000);
        var cases = Bodies.Select(row => ((string)row[1], (HttpStatusCode)row[2], (string)row[3])).ToArray();
        var wrong = new ConcurrentBag<string>();
        var serverErrors = 0;
        var next = -1;
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { Timeout = RpcTestHost.Timeout };
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var (body, status, expected) = cases[i % cases.Length];
                var (_, host, token) = Hosts()[i / cases.Length % 2];
                using var request = Post(host, Encoding.UTF8.GetBytes(body), token);
                using var response = await client.SendAsync(request).WaitAsync(RpcTestHost.Timeout);
                var answer = await response.Content.ReadAsStringAsync().WaitAsync(RpcTestHost.Timeout);
                if ((int)response.StatusCode >= 500)
                {
                    Interlocked.Increment(ref serverErrors);
                }
                if (response.StatusCode != status || answer != expected)
                {
                    wrong.Add($"{(int)response.StatusCode} {answer[..Math.Min(answer.Length, 200)]} for {body[..Math.Min(body.Length, 80)]}");
                }
            }
        })));

        Assert.Equal(0, serverErrors);
        Assert.True(wrong.IsEmpty, $"{wrong.Count} of {count} answered wrongly, e.g.\n  " + string.Join("\n  ", wrong.Take(5)));
    }

    [Fact]
    public async Task A_thousand_connections_are_served_at_once_on_both_ports()
    {
        var connections = SizeFromEnvironment("HOSTILE_CONNECTIONS", 1000);
        fixture.Gather.Arm(connections);
        // Each client its own connection; every test_gather is held until all are in flight, so all are open at once.
        var clients = Enumerable.Range(0, connections)
            .Select(_ => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { Timeout = RpcTestHost.Timeout })
            .ToArray();
        try
        {
            var answers = await Task.WhenAll(clients.Select(async (client, i) =>
            {
                var (_, host, token) = Hosts()[i % 2];
                var gathered = await CallAsync(client, host, token, """{"jsonrpc":"2.0","id":1,"method":"test_gather","params":[]}""");
                var valid = await CallAsync(client, host, token, Valid);
                return (gathered, valid);
            })).WaitAsync(RpcTestHost.Timeout * 2);

            Assert.All(answers, a => Assert.Equal(($$"""{"jsonrpc":"2.0","id":1,"result":{{connections}}}""", ValidAnswer), a));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<string> CallAsync(HttpClient client, RpcTestHost host, string? token, string body)
    {
        using var request = Post(host, Encoding.UTF8.GetBytes(body), token);
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    private (string Name, RpcTestHost Host, string? Token)[] Hosts() =>
        [("public", fixture.Public, null), ("engine", fixture.Engine, fixture.Token())];

    private static HttpRequestMessage Post(RpcTestHost host, byte[] body, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, host.Address) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return request;
    }

    private static byte[] Head(string? token, string rest) =>
        Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (token is null ? "" : $"Authorization: Bearer {token}\r\n") + rest);

    /// <summary>Writes raw bytes and reads until the server closes the connection or has sent its Content-Length.</summary>
    private static async Task<string> RawAsync(RpcTestHost host, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, host.Address.Port).WaitAsync(RpcTestHost.Timeout);
        var stream = client.GetStream();
        await stream.WriteAsync(request).AsTask().WaitAsync(RpcTestHost.Timeout);
        var received = new List<byte>();
        var buffer = new byte[8192];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer).AsTask().WaitAsync(RpcTestHost.Timeout);
            }
            catch (IOException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read));
            var text = Encoding.UTF8.GetString([.. received]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            var length = text.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            if (end >= 0 && length is not null && received.Count - end - 4 >= int.Parse(length.AsSpan("Content-Length:".Length).Trim(), CultureInfo.InvariantCulture))
            {
                break;
            }
        }

        return Encoding.UTF8.GetString([.. received]);
    }

    private static Uri WebSocketUri(RpcTestHost host) => new UriBuilder(host.Address) { Scheme = "ws", Path = "/" }.Uri;

    private static async Task<ClientWebSocket> ConnectAsync(RpcTestHost host, string? token)
    {
        var socket = new ClientWebSocket();
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        await socket.ConnectAsync(WebSocketUri(host), CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        return socket;
    }

    private static int SizeFromEnvironment(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0 ? size : fallback;
}
