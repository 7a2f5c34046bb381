using System.Net;
using System.Text;
using System.Text.Json;

namespace EngineSkeleton.Server.Tests.Rpc;

public sealed class RpcHttpTests(RpcHostFixture fixture) : IClassFixture<RpcHostFixture>
{
    private RpcTestHost Host => fixture.Host;

    /// <summary>Body sent → exact body answered (HTTP 200 and application/json in every case).</summary>
    public static TheoryData<string, string, string> Exchanges => new()
    {
        { "a call is answered with its result and its number id",
            """{"jsonrpc":"2.0","id":1,"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":1,"result":3}""" },
        { "a string id comes back as the same string",
            """{"jsonrpc":"2.0","id":"req-\u00e9","method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":"req-\u00e9","result":3}""" },
        { "a null id is a call (geth), answered with id null",
            """{"jsonrpc":"2.0","id":null,"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":null,"result":3}""" },
        { "a number id beyond long comes back digit for digit",
            """{"jsonrpc":"2.0","id":18446744073709551616,"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":18446744073709551616,"result":3}""" },
        { "a fractional or exponent id comes back as written",
            """{"jsonrpc":"2.0","id":1.50e3,"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":1.50e3,"result":3}""" },
        { "params null is the same as no params",
            """{"jsonrpc":"2.0","id":2,"method":"test_kinds","params":null}""",
            """{"jsonrpc":"2.0","id":2,"result":["Undefined","Undefined"]}""" },
        { "missing trailing params reach a JsonElement handler as Undefined (StreamJsonRpc uses the default)",
            """{"jsonrpc":"2.0","id":3,"method":"test_kinds","params":[7]}""",
            """{"jsonrpc":"2.0","id":3,"result":["Number","Undefined"]}""" },
        { "the handler decides the -32602 for a missing JsonElement argument",
            """{"jsonrpc":"2.0","id":4,"method":"test_echo","params":[]}""",
            """{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"missing value for required argument 0"}}""" },
        { "too many params is -32602 with geth's message",
            """{"jsonrpc":"2.0","id":5,"method":"test_kinds","params":[1,2,3]}""",
            """{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"too many arguments, want at most 2"}}""" },
        { "a missing required (non-default) param is -32602 with geth's message",
            """{"jsonrpc":"2.0","id":6,"method":"test_add","params":[1]}""",
            """{"jsonrpc":"2.0","id":6,"error":{"code":-32602,"message":"missing value for required argument 1"}}""" },
        { "object params are -32602: positional only, as geth",
            """{"jsonrpc":"2.0","id":7,"method":"test_add","params":{"a":1,"b":2}}""",
            """{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"non-array args"}}""" },
        { "an unknown method is -32601 with geth's message",
            """{"jsonrpc":"2.0","id":8,"method":"eth_nope","params":[]}""",
            """{"jsonrpc":"2.0","id":8,"error":{"code":-32601,"message":"the method eth_nope does not exist/is not available"}}""" },
        { "a public method without [JsonRpcMethod] is not callable",
            """{"jsonrpc":"2.0","id":9,"method":"Hidden"}""",
            """{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"the method Hidden does not exist/is not available"}}""" },
        { "StreamJsonRpc's own $/cancelRequest is not reachable from outside",
            """{"jsonrpc":"2.0","id":10,"method":"$/cancelRequest","params":{"id":1}}""",
            """{"jsonrpc":"2.0","id":10,"error":{"code":-32601,"message":"the method $/cancelRequest does not exist/is not available"}}""" },
        { "an RpcException becomes code, message and data",
            """{"jsonrpc":"2.0","id":11,"method":"test_throws"}""",
            """{"jsonrpc":"2.0","id":11,"error":{"code":-38001,"message":"Unknown payload","data":{"hash":"0x01"}}}""" },
        { "any other exception is -32603 with a generic message, never its text",
            """{"jsonrpc":"2.0","id":12,"method":"test_crash"}""",
            """{"jsonrpc":"2.0","id":12,"error":{"code":-32603,"message":"internal error"}}""" },
        { "a record returned after an await is serialized with the host's options",
            """{"jsonrpc":"2.0","id":13,"method":"test_record","params":["0xab"]}""",
            """{"jsonrpc":"2.0","id":13,"result":{"hash":"0xab"}}""" },
        { "an escaped method name is the same method",
            """{"jsonrpc":"2.0","id":14,"method":"test_\u0061dd","params":[2,2]}""",
            """{"jsonrpc":"2.0","id":14,"result":4}""" },
        { "unparsable JSON is -32700 with id null",
            """{"jsonrpc":"2.0","id":15,"method":""",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}""" },
        { "trailing bytes after the request make it unparsable",
            """{"jsonrpc":"2.0","id":16,"method":"test_add","params":[1,2]} x""",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}""" },
        { "a request that is not an object is -32600 with id null",
            "42",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "a missing method is -32600 keeping the id",
            """{"jsonrpc":"2.0","id":17}""",
            """{"jsonrpc":"2.0","id":17,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "a method that is not a string is -32600 keeping the id",
            """{"jsonrpc":"2.0","id":18,"method":5}""",
            """{"jsonrpc":"2.0","id":18,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "a wrong jsonrpc version is -32600 keeping the id (geth hasValidVersion)",
            """{"jsonrpc":"1.0","id":19,"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":19,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "a missing jsonrpc version is -32600",
            """{"id":20,"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":20,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "an object id is -32600 with id null (geth hasValidID)",
            """{"jsonrpc":"2.0","id":{"a":1},"method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "a bad-version message without id is still answered, id null (geth handleCallMsg)",
            """{"jsonrpc":"1.0","method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}""" },
        { "an empty batch is a single -32600",
            "[]",
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}}""" },
        { "a notification is run and answered with an empty body",
            """{"jsonrpc":"2.0","method":"test_add","params":[1,2]}""",
            "" },
        { "a notification for an unknown method gets no answer either",
            """{"jsonrpc":"2.0","method":"eth_nope"}""",
            "" },
        { "a batch of only notifications gets an empty body, as geth",
            """[{"jsonrpc":"2.0","method":"test_add","params":[1,2]},{"jsonrpc":"2.0","method":"eth_nope"}]""",
            "" },
        { "a mixed batch is answered in order, ids kept, notifications skipped, bad elements answered with id null",
            """[{"jsonrpc":"2.0","id":"a","method":"test_add","params":[1,1]},{"jsonrpc":"2.0","method":"test_add","params":[1,2]},5,{"jsonrpc":"2.0","id":null,"method":"test_throws"},{"jsonrpc":"2.0","id":3,"method":"eth_nope"},{"jsonrpc":"2.0","id":4,"method":"test_add","params":[2,2]}]""",
            """[{"jsonrpc":"2.0","id":"a","result":2},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}},{"jsonrpc":"2.0","id":null,"error":{"code":-38001,"message":"Unknown payload","data":{"hash":"0x01"}}},{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"the method eth_nope does not exist/is not available"}},{"jsonrpc":"2.0","id":4,"result":4}]""" },
        { "a batch longer than the limit gets one -32600 in an array carrying the first call's id (geth)",
            "[" + string.Join(",", Enumerable.Range(1, 11).Select(i => $$"""{"jsonrpc":"2.0","id":{{i}},"method":"test_add","params":[1,2]}""")) + "]",
            """[{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"batch too large"}}]""" },
        { "a body of whitespace is answered with nothing, as geth reads EOF",
            " \r\n ",
            "" },
    };

    [Theory]
    [MemberData(nameof(Exchanges))]
    public async Task Answers_like_geth(string proves, string body, string expected)
    {
        var (status, contentType, text) = await Host.PostAsync(body);
        Assert.True(status == HttpStatusCode.OK, $"{proves}: HTTP {(int)status}");
        Assert.Equal("application/json", contentType);
        Assert.True(expected == text, $"{proves}\n  expected {expected}\n  actual   {text}");
    }

    [Fact]
    public async Task A_wrongly_typed_argument_is_invalid_params_without_internals()
    {
        var (_, _, text) = await Host.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"test_add","params":["a",2]}""");
        using var doc = JsonDocument.Parse(text);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(-32602, error.GetProperty("code").GetInt32());
        Assert.False(error.TryGetProperty("data", out _), text);
        Assert.DoesNotContain("TestTarget", text, StringComparison.Ordinal);
        Assert.DoesNotContain("StackTrace", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_notification_has_run_before_its_empty_answer()
    {
        var (status, _, text) = await Host.PostAsync("""{"jsonrpc":"2.0","method":"test_notify","params":[42]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("", text);
        Assert.True(fixture.Target.NotificationRan.Task.IsCompletedSuccessfully);
        Assert.Equal(42, await fixture.Target.NotificationRan.Task.WaitAsync(RpcTestHost.Timeout));
    }

    public static TheoryData<string, string?, HttpStatusCode> ContentTypes => new()
    {
        { "application/json is the content type", "application/json", HttpStatusCode.OK },
        { "parameters such as charset are ignored", "application/json; charset=utf-8", HttpStatusCode.OK },
        { "media types compare case-insensitively", "Application/JSON", HttpStatusCode.OK },
        { "application/json-rpc is accepted (geth acceptedContentTypes)", "application/json-rpc", HttpStatusCode.OK },
        { "application/jsonrequest is accepted (geth acceptedContentTypes)", "application/jsonrequest", HttpStatusCode.OK },
        { "text/plain is 415", "text/plain", HttpStatusCode.UnsupportedMediaType },
        { "form posts are 415", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType },
        { "no content type is 415, as geth", null, HttpStatusCode.UnsupportedMediaType },
        { "an unparsable content type is 415", ";;;", HttpStatusCode.UnsupportedMediaType },
    };

    [Theory]
    [MemberData(nameof(ContentTypes))]
    public async Task Checks_the_content_type_like_geth(string proves, string? contentType, HttpStatusCode expected)
    {
        var (status, type, text) = await Host.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"test_add","params":[1,2]}""", contentType);
        Assert.True(status == expected, $"{proves}: HTTP {(int)status} {text}");
        Assert.Equal("application/json", type);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal("""{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid content type, only application/json is supported"}}""", text);
        }
    }

    [Fact]
    public async Task A_body_over_the_cap_is_413_with_or_without_content_length()
    {
        var big = """{"jsonrpc":"2.0","id":1,"method":"test_echo","params":[""" + "\"" + new string('a', 70 * 1024) + "\"]}";
        var (status, _, text) = await Host.PostAsync(big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("-32600", text, StringComparison.Ordinal);

        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        var (chunkedStatus, _, _) = await Host.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunkedStatus);

        // Just under the cap still works.
        var fits = """{"jsonrpc":"2.0","id":1,"method":"test_echo","params":[""" + "\"" + new string('a', 60 * 1024) + "\"]}";
        var (okStatus, _, okText) = await Host.PostAsync(fits);
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.EndsWith("aaa\"}", okText, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, HttpStatusCode, string> Methods => new()
    {
        { "a bodyless GET is a 200 health check (geth, for load balancers)", "GET", HttpStatusCode.OK, "" },
        { "PUT is 405", "PUT", HttpStatusCode.MethodNotAllowed, """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"method not allowed"}}""" },
        { "DELETE is 405", "DELETE", HttpStatusCode.MethodNotAllowed, """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"method not allowed"}}""" },
        { "a bodyless OPTIONS is answered empty, whatever its content type (geth)", "OPTIONS", HttpStatusCode.OK, "" },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Handles_other_http_methods_like_geth(string proves, string method, HttpStatusCode expected, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/");
        var (status, _, text) = await Host.SendAsync(request);
        Assert.True(status == expected, $"{proves}: HTTP {(int)status}");
        Assert.Equal(body, text);
    }

    [Fact]
    public async Task Other_paths_are_left_to_the_rest_of_the_pipeline()
    {
        var (status, _, text) = await Host.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("other route", text);

        using var post = new HttpRequestMessage(HttpMethod.Post, "/rpc") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        var (notFound, _, _) = await Host.SendAsync(post);
        Assert.Equal(HttpStatusCode.NotFound, notFound);
    }

    [Fact]
    public async Task Concurrent_requests_with_the_same_id_each_get_their_own_answer()
    {
        var calls = Enumerable.Range(0, 64).Select(async i =>
        {
            var (_, _, text) = await Host.PostAsync($$"""{"jsonrpc":"2.0","id":1,"method":"test_add","params":[{{i}},1000]}""");
            return (i, text);
        });
        foreach (var (i, text) in await Task.WhenAll(calls).WaitAsync(RpcTestHost.Timeout))
        {
            Assert.Equal($$"""{"jsonrpc":"2.0","id":1,"result":{{i + 1000}}}""", text);
        }
    }

    [Fact]
    public async Task A_slow_handler_does_not_hold_up_other_requests()
    {
        fixture.Target.Arm();
        var slow = Host.PostAsync("""{"jsonrpc":"2.0","id":"slow","method":"test_wait","params":["held"]}""");
        var (_, _, fast) = await Host.PostAsync("""{"jsonrpc":"2.0","id":"fast","method":"test_add","params":[1,1]}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":"fast","result":2}""", fast);
        Assert.False(slow.IsCompleted);
        fixture.Target.Release();
        var (_, _, held) = await slow.WaitAsync(RpcTestHost.Timeout);
        Assert.Equal("""{"jsonrpc":"2.0","id":"slow","result":"held"}""", held);
    }

    [Fact]
    public async Task A_client_that_hangs_up_cancels_its_handler()
    {
        fixture.Target.ResetBlock();
        using var cts = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"test_block"}""", Encoding.UTF8, "application/json") };
        var call = Host.Client.SendAsync(request, cts.Token);
        await fixture.Target.BlockStarted.Task.WaitAsync(RpcTestHost.Timeout);
        await cts.CancelAsync().WaitAsync(RpcTestHost.Timeout);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(RpcTestHost.Timeout));
        // The HTTP abort became a $/cancelRequest inside the shared JsonRpc, so the handler's token fired.
        await fixture.Target.BlockCancelled.Task.WaitAsync(RpcTestHost.Timeout);
    }

    public static TheoryData<string, byte[]> Garbage => new()
    {
        { "invalid UTF-8", [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d] },
        { "a lone surrogate escape in the method", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"\ud800"}""") },
        { "nesting deeper than the reader allows", Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)) },
        { "deeply nested params of a real method", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"test_echo","params":[""" + new string('[', 60) + new string(']', 60) + "]}") },
        { "a NUL byte", [0] },
        { "a bare string", Encoding.UTF8.GetBytes("\"hello\"") },
        { "a bare null", Encoding.UTF8.GetBytes("null") },
        { "a batch of garbage", Encoding.UTF8.GetBytes("[1,\"x\",null,[],{}]") },
        { "a huge id number", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1e999999,"method":"test_add","params":[1,2]}""") },
        { "a number too big for the long parameter", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"test_add","params":[1e400,2]}""") },
        { "a duplicated id key", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1.5,"id":{},"method":"test_add","params":[1,2]}""") },
        { "comments are not JSON", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0",/*x*/"id":1,"method":"test_add","params":[1,2]}""") },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Malformed_input_never_yields_a_500(string proves, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        var (status, _, text) = await Host.SendAsync(request);
        Assert.True(status == HttpStatusCode.OK, $"{proves}: HTTP {(int)status} {text}");
        using var doc = JsonDocument.Parse(text);
        Assert.True(text.Contains("\"error\"", StringComparison.Ordinal) || text.Contains("\"result\"", StringComparison.Ordinal), proves + ": " + text);
    }

    [Fact]
    public async Task Mutated_requests_never_yield_a_500()
    {
        // Seeded: a failure replays. Each case flips, drops or duplicates a few bytes of a valid batch.
        var random = new Random(20260301);
        var valid = Encoding.UTF8.GetBytes("""[{"jsonrpc":"2.0","id":"a","method":"test_add","params":[1,2]},{"jsonrpc":"2.0","id":2,"method":"test_kinds","params":[{"x":[1,null,true]},"s"]}]""");
        for (var round = 0; round < 500; round++)
        {
            var body = valid.ToList();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                var at = random.Next(body.Count);
                switch (random.Next(3))
                {
                    case 0: body[at] = (byte)random.Next(256); break;
                    case 1: body.RemoveAt(at); break;
                    default: body.Insert(at, body[at]); break;
                }
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent([.. body]) };
            request.Content.Headers.ContentType = new("application/json");
            var (status, _, text) = await Host.SendAsync(request);
            Assert.True(status == HttpStatusCode.OK, $"round {round}: HTTP {(int)status} for {Encoding.UTF8.GetString([.. body])}");
            if (text.Length > 0)
            {
                using var doc = JsonDocument.Parse(text);
            }
        }
    }
}
