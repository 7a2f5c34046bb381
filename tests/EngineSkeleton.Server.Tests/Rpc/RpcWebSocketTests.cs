using System.Net.WebSockets;
using System.Text;

namespace EngineSkeleton.Server.Tests.Rpc;

/// <summary>
/// WebSocket transport: each message answered as an HTTP body is (the same parser and dispatcher), so argument counts
/// get geth's messages here too. The malformed classes are in <see cref="HostileClientTests"/>.
/// </summary>
public sealed class RpcWebSocketTests(RpcHostFixture fixture) : IClassFixture<RpcHostFixture>
{
    public static TheoryData<string, string, string> Exchanges => new()
    {
        { "a call over the socket is answered with its id",
            """{"jsonrpc":"2.0","id":1,"method":"test_add","params":[40,2]}""",
            """{"jsonrpc":"2.0","id":1,"result":42}""" },
        { "a string id survives",
            """{"jsonrpc":"2.0","id":"s","method":"test_add","params":[1,2]}""",
            """{"jsonrpc":"2.0","id":"s","result":3}""" },
        { "missing trailing JsonElement params arrive as their default (Undefined)",
            """{"jsonrpc":"2.0","id":2,"method":"test_kinds","params":[]}""",
            """{"jsonrpc":"2.0","id":2,"result":["Undefined","Undefined"]}""" },
        { "extra params are -32602 with geth's message (no CLR signature leaks)",
            """{"jsonrpc":"2.0","id":3,"method":"test_kinds","params":[1,2,3]}""",
            """{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"too many arguments, want at most 2"}}""" },
        { "a missing required param is -32602 with geth's message",
            """{"jsonrpc":"2.0","id":4,"method":"test_add","params":[1]}""",
            """{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"missing value for required argument 1"}}""" },
        { "an RpcException over the socket becomes code, message and data",
            """{"jsonrpc":"2.0","id":5,"method":"test_throws"}""",
            """{"jsonrpc":"2.0","id":5,"error":{"code":-38001,"message":"Unknown payload","data":{"hash":"0x01"}}}""" },
        { "a crash over the socket is -32603 without its text",
            """{"jsonrpc":"2.0","id":6,"method":"test_crash"}""",
            """{"jsonrpc":"2.0","id":6,"error":{"code":-32603,"message":"internal error"}}""" },
    };

    [Theory]
    [MemberData(nameof(Exchanges))]
    public async Task Serves_the_same_targets(string proves, string request, string expected)
    {
        using var socket = await ConnectAsync();
        var answer = await ExchangeAsync(socket, request);
        Assert.True(expected == answer, $"{proves}\n  expected {expected}\n  actual   {answer}");
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
    }

    [Fact]
    public async Task Unparsable_JSON_is_answered_and_other_sessions_and_HTTP_are_untouched()
    {
        using (var broken = await ConnectAsync())
        {
            Assert.Equal("""{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}""", await ExchangeAsync(broken, "{not json"));
        }

        using var next = await ConnectAsync();
        Assert.Equal("""{"jsonrpc":"2.0","id":1,"result":2}""", await ExchangeAsync(next, """{"jsonrpc":"2.0","id":1,"method":"test_add","params":[1,1]}"""));
        var (_, _, http) = await fixture.Host.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"test_add","params":[1,1]}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":1,"result":2}""", http);
    }

    [Fact]
    public async Task A_message_over_the_body_cap_closes_the_session_with_1009()
    {
        using var socket = await ConnectAsync();
        var big = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"test_echo","params":[""" + "\"" + new string('a', 70 * 1024) + "\"]}");
        await socket.SendAsync(big, WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        var result = await socket.ReceiveAsync(new byte[1024], CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
    }

    internal static async Task<string> ExchangeAsync(ClientWebSocket socket, string request)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        var buffer = new byte[64 * 1024];
        var used = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(used), CancellationToken.None).AsTask().WaitAsync(RpcTestHost.Timeout);
            used += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer, 0, used);
            }
        }
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(fixture.Host.Address) { Scheme = "ws", Path = "/" }.Uri, CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        return socket;
    }
}
