using System.Net.WebSockets;
using System.Text;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>
/// One kind of malformed request: how it is sent, how often it is drawn (weight), and the answer class the server
/// must give (docs/rpc.md, geth's rules; alternatives separated by '|' where a standard allows both). Bodies are built
/// once and reused.
/// </summary>
internal sealed record HostileCase(string Name, int Weight, string Expected, Func<HostileClient, CancellationToken, Task<string>> Send);

/// <summary>The campaign's catalog: every malformed class on the public port, the engine port (valid JWT) and WebSocket.</summary>
internal static class HostileCases
{
    /// <summary>Large enough to be "MBs" on the wire, small enough that 100,000 draws stay minutes on loopback.</summary>
    private const int HugeHexBytes = 2 * 1024 * 1024;

    private static readonly byte[] Truncated = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[""");
    private static readonly byte[] TruncatedBatch = Utf8("""[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":""");
    private static readonly byte[] DeepOpen = Utf8(new string('[', 100_000));
    private static readonly byte[] DeepBalanced = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[""" + new string('[', 10_000) + new string(']', 10_000) + "]}");
    private static readonly byte[] HugeHexPublic = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByHash","params":["0x""" + new string('a', HugeHexBytes) + "\",false]}");
    private static readonly byte[] HugeHexEngine = Utf8("""{"jsonrpc":"2.0","id":1,"method":"engine_getPayloadBodiesByHashV1","params":[["0x""" + new string('b', HugeHexBytes) + "\"]]}");
    private static readonly byte[] HugeMethod = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_""" + new string('a', 1024 * 1024) + "\",\"params\":[]}");
    private static readonly byte[] GiantBatch = Batch(10_000, """{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}""");
    private static readonly byte[] GiantBatchOfNumbers = Utf8("[" + string.Join(',', Enumerable.Repeat("1", 2_000_000)) + "]");
    private static readonly byte[] FullBatchWrongTypes = Batch(1000, """{"jsonrpc":"2.0","id":7,"method":"eth_getBlockByHash","params":[12345,false]}""");
    private static readonly byte[] WrongTypeNumber = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[{"x":1},"yes"]}""");
    private static readonly byte[] WrongTypeHash = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByHash","params":[12345,false]}""");
    private static readonly byte[] ObjectParams = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":{"a":1}}""");
    private static readonly byte[] NumberMethod = Utf8("""{"jsonrpc":"2.0","id":1,"method":42,"params":[]}""");
    private static readonly byte[] ObjectId = Utf8("""{"jsonrpc":"2.0","id":{},"method":"eth_blockNumber","params":[]}""");
    private static readonly byte[] OldVersion = Utf8("""{"jsonrpc":"1.0","id":1,"method":"eth_blockNumber","params":[]}""");
    private static readonly byte[] Unknown = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x00"]}""");
    private static readonly byte[] TooManyArgs = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[1,2,3]}""");
    private static readonly byte[] FcuWrongTypes = Utf8("""{"jsonrpc":"2.0","id":1,"method":"engine_forkchoiceUpdatedV3","params":["head",7]}""");
    private static readonly byte[] NewPayloadWrongTypes = Utf8("""{"jsonrpc":"2.0","id":1,"method":"engine_newPayloadV4","params":[{},[],"0x",[]]}""");
    private static readonly byte[] BodiesRangeTooLarge = Utf8("""{"jsonrpc":"2.0","id":1,"method":"engine_getPayloadBodiesByRangeV1","params":["0x1","0x100000"]}""");
    private static readonly byte[] InvalidUtf8Method = [.. Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_block"""), 0xff, 0xfe, .. Utf8("\"}")];
    private static readonly byte[] InvalidUtf8Param = [.. Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByHash","params":["0x"""), 0xc3, 0x28, .. Utf8("\",false]}")];
    private static readonly byte[] Valid = Utf8("""{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}""");
    private static readonly string HugeHeader = "Content-Type: application/json\r\nContent-Length: 2\r\nX-Big: " + new string('x', 64 * 1024) + "\r\n\r\n{}";
    private static readonly string OverCap = "Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n{\"jsonrpc\":";
    private static readonly byte[] BadRequestLine = Utf8("P\0ST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

    public static IReadOnlyList<HostileCase> All { get; } = Build();

    private static List<HostileCase> Build()
    {
        var cases = new List<HostileCase>();
        foreach (var listener in (Listener[])[Listener.Public, Listener.Engine])
        {
            var at = listener == Listener.Public ? "public" : "engine";
            cases.Add(Post($"truncated json ({at})", 60, listener, Truncated, "http 200 rpc -32700"));
            cases.Add(Post($"truncated batch ({at})", 30, listener, TruncatedBatch, "http 200 rpc -32700"));
            cases.Add(Post($"100k '[' nesting ({at})", 20, listener, DeepOpen, "http 200 rpc -32700"));
            cases.Add(Post($"10k-deep params ({at})", 20, listener, DeepBalanced, "http 200 rpc -32700"));
            cases.Add(Post($"1 MB method name ({at})", 2, listener, HugeMethod, "http 200 rpc -32600"));
            cases.Add(Post($"10k-entry batch ({at})", 4, listener, GiantBatch, "http 200 batch 1 rpc -32600"));
            cases.Add(Post($"2M-entry batch of numbers ({at})", 1, listener, GiantBatchOfNumbers, "http 200 batch 1 rpc -32600"));
            cases.Add(Post($"1000 wrong-typed calls in a batch ({at})", 2, listener, FullBatchWrongTypes, "http 200 batch 1000 rpc -32602"));
            cases.Add(Post($"wrong type: object for block number ({at})", 40, listener, WrongTypeNumber, "http 200 rpc -32602"));
            cases.Add(Post($"wrong type: number for hash ({at})", 40, listener, WrongTypeHash, "http 200 rpc -32602"));
            cases.Add(Post($"object params ({at})", 30, listener, ObjectParams, "http 200 rpc -32602"));
            cases.Add(Post($"too many arguments ({at})", 30, listener, TooManyArgs, "http 200 rpc -32602"));
            cases.Add(Post($"number as method ({at})", 30, listener, NumberMethod, "http 200 rpc -32600"));
            cases.Add(Post($"object as id ({at})", 30, listener, ObjectId, "http 200 rpc -32600"));
            cases.Add(Post($"jsonrpc 1.0 ({at})", 30, listener, OldVersion, "http 200 rpc -32600"));
            cases.Add(Post($"unknown method ({at})", 30, listener, Unknown, "http 200 rpc -32601"));
            cases.Add(Post($"invalid UTF-8 in method ({at})", 40, listener, InvalidUtf8Method, "http 200 rpc -32700"));
            cases.Add(Post($"invalid UTF-8 in a param ({at})", 40, listener, InvalidUtf8Param, "http 200 rpc -32700"));
            cases.Add(Post($"empty body ({at})", 40, listener, [], "http 200 empty"));
            cases.Add(Post($"whitespace body ({at})", 20, listener, Utf8(" \r\n\t "), "http 200 empty"));
            cases.Add(Post($"text/plain ({at})", 40, listener, Valid, "http 415 rpc -32600", "text/plain"));
            cases.Add(Post($"no content type ({at})", 30, listener, Valid, "http 415 rpc -32600", null));
            cases.Add(Post($"multipart/form-data ({at})", 20, listener, Valid, "http 415 rpc -32600", "multipart/form-data; boundary=x"));
            cases.Add(Raw($"64 KB header ({at})", 10, listener, c => Request(c, listener, HugeHeader), "http 431 empty"));
            cases.Add(Raw($"Content-Length over the cap ({at})", 10, listener, c => Request(c, listener, OverCap), "http 413 rpc -32600"));
            cases.Add(Raw($"NUL in the request line ({at})", 10, listener, _ => BadRequestLine, "http 400 empty"));
            cases.Add(Socket($"ws: truncated json, then a valid call ({at})", 20, listener, [Text(Truncated), Text(Valid)], "ws rpc -32700 then ws result"));
            cases.Add(Socket($"ws: 100k '[' nesting ({at})", 10, listener, [Text(DeepOpen)], "ws rpc -32700"));
            cases.Add(Socket($"ws: invalid UTF-8 in a binary message ({at})", 10, listener, [(InvalidUtf8Method, WebSocketMessageType.Binary)], "ws rpc -32700"));
            cases.Add(Socket($"ws: invalid UTF-8 in a text frame ({at})", 20, listener, [Text(InvalidUtf8Method)], "ws close 1007|ws closed"));
            cases.Add(Socket($"ws: wrong type, then a valid call ({at})", 30, listener, [Text(WrongTypeHash), Text(Valid)], "ws rpc -32602 then ws result"));
            cases.Add(Socket($"ws: 10k-entry batch ({at})", 2, listener, [Text(GiantBatch)], "ws batch 1 rpc -32600"));
            cases.Add(Socket($"ws: batch of 3 ({at})", 10, listener, [Text(Batch(3, """{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"""))], "ws batch 3 result"));
        }

        cases.Add(Post("huge hex string (public)", 2, Listener.Public, HugeHexPublic, "http 200 rpc -32602"));
        cases.Add(Post("huge hex string (engine)", 2, Listener.Engine, HugeHexEngine, "http 200 rpc -32602"));
        cases.Add(Socket("ws: huge hex string (public)", 1, Listener.Public, [Text(HugeHexPublic)], "ws rpc -32602"));
        cases.Add(Post("forkchoiceUpdated with wrong types (engine)", 40, Listener.Engine, FcuWrongTypes, "http 200 rpc -32602"));
        cases.Add(Post("newPayload with wrong types (engine)", 40, Listener.Engine, NewPayloadWrongTypes, "http 200 rpc -32602"));
        cases.Add(Post("bodies by range over 1024 (engine)", 20, Listener.Engine, BodiesRangeTooLarge, "http 200 rpc -38004"));

        // JWT: every refusal is a 401 with a JSON-RPC body before the body is read.
        var wrongKey = new byte[32];
        var now = () => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        cases.Add(Post("jwt: missing", 30, Listener.Engine, Valid, "http 401 rpc -32000", noToken: true));
        cases.Add(Post("jwt: garbage", 30, Listener.Engine, Valid, "http 401 rpc -32000", bearer: _ => "not.a.jwt"));
        cases.Add(Post("jwt: wrong key", 30, Listener.Engine, Valid, "http 401 rpc -32000", bearer: _ => HostileClient.Jwt(wrongKey, """{"alg":"HS256","typ":"JWT"}""", $"{{\"iat\":{now()}}}")));
        cases.Add(Post("jwt: stale iat", 30, Listener.Engine, Valid, "http 401 rpc -32000", bearer: c => HostileClient.Jwt(c.Secret, """{"alg":"HS256","typ":"JWT"}""", $"{{\"iat\":{now() - 120}}}")));
        cases.Add(Post("jwt: alg none", 30, Listener.Engine, Valid, "http 401 rpc -32000", bearer: c => HostileClient.Jwt(c.Secret, """{"alg":"none","typ":"JWT"}""", $"{{\"iat\":{now()}}}")));
        cases.Add(Post("jwt: 16 KB token", 10, Listener.Engine, Valid, "http 401 rpc -32000", bearer: _ => new string('a', 16 * 1024)));
        cases.Add(new("ws: jwt wrong key on the upgrade", 20, "ws http 401", (c, t) => c.WebSocketAsync(Listener.Engine, [Text(Valid)], HostileClient.Jwt(wrongKey, """{"alg":"HS256","typ":"JWT"}""", $"{{\"iat\":{now()}}}"), t)));
        return cases;
    }

    /// <summary>Slow clients, run beside the storm on their own connections (each holds one for up to the bound).</summary>
    public static IReadOnlyList<(string Name, Listener Listener, byte[] Head, byte[] Dribble, string Expected)> Slowloris { get; } =
    [
        ("slowloris: headers one line a second (public)", Listener.Public, Utf8("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"), Utf8("X-Slow: 1\r\n"), "http 408 empty"),
        ("slowloris: headers one line a second (engine)", Listener.Engine, Utf8("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"), Utf8("X-Slow: 1\r\n"), "http 408 empty"),
        ("slowloris: body one byte a second (public)", Listener.Public, Utf8("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n["), Utf8(" "), "http 408 rpc -32600"),
    ];

    private static HostileCase Post(string name, int weight, Listener listener, byte[] body, string expected, string? contentType = "application/json", Func<HostileClient, string>? bearer = null, bool noToken = false) =>
        new(name, weight, expected, (c, t) => c.PostAsync(listener, body, contentType, bearer?.Invoke(c), noToken, t));

    private static HostileCase Raw(string name, int weight, Listener listener, Func<HostileClient, byte[]> request, string expected) =>
        new(name, weight, expected, async (c, t) => (await c.RawAsync(listener, request(c), null, TimeSpan.Zero, HostileClient.AnswerBound, t)).Class);

    /// <summary>A raw POST with <paramref name="rest"/> after the Host line (and a valid token on the engine port).</summary>
    private static byte[] Request(HostileClient client, Listener listener, string rest) =>
        Utf8("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (listener == Listener.Engine ? $"Authorization: Bearer {client.Token()}\r\n" : "") + rest);

    private static HostileCase Socket(string name, int weight, Listener listener, (byte[], WebSocketMessageType)[] messages, string expected) =>
        new(name, weight, expected, (c, t) => c.WebSocketAsync(listener, messages, cancel: t));

    private static (byte[], WebSocketMessageType) Text(byte[] message) => (message, WebSocketMessageType.Text);

    private static byte[] Batch(int count, string call) => Utf8("[" + string.Join(',', Enumerable.Repeat(call, count)) + "]");

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
