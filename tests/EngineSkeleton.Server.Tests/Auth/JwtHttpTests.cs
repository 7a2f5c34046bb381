using System.Net;
using System.Net.WebSockets;
using System.Text;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Server.Tests.Rpc;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Server.Tests.Auth;

/// <summary>The JWT check through a real Kestrel: the hive engine auth suite, the 401 body, and the WebSocket upgrade.</summary>
public sealed class JwtHttpTests : IAsyncLifetime
{
    private const string Call = """{"jsonrpc":"2.0","id":1,"method":"test_add","params":[1,2]}""";

    private readonly FakeTimeProvider _time = new(JwtValidatorTests.Now);
    private RpcTestHost _host = null!;

    private static long Now => JwtValidatorTests.Now.ToUnixTimeSeconds();

    public async Task InitializeAsync()
    {
        var validator = new JwtValidator(JwtSecret.FromBytes(JwtTestTokens.HiveSecret), _time);
        _host = await RpcTestHost.StartAsync(new RpcEndpointOptions("engine", RequireJwt: true), new TestTarget(), validator);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>Token → expected 401 message (null: accepted).</summary>
    public static TheoryData<string, string?, string?> Cases => new()
    {
        { "hive: no time drift, correct secret", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now), null },
        { "hive: incorrect secret (shorter)", JwtTestTokens.Hs256(Encoding.ASCII.GetBytes("secretsecretsecretsecretsecrets"), Now), "signature is invalid" },
        { "hive: incorrect secret (longer, zero byte prepended)", JwtTestTokens.Hs256([0, .. JwtTestTokens.HiveSecret], Now), "signature is invalid" },
        { "hive: negative time drift, exceeding limit (-61 s)", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now - 61), "stale token" },
        { "hive: negative time drift, within limit (-59 s)", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now - 59), null },
        { "hive: positive time drift, exceeding limit (+61 s)", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now + 61), "future token" },
        { "hive: positive time drift, within limit (+59 s)", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now + 59), null },
        { "alg none is refused", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now, alg: "none"), "signing method none is invalid, only HS256 is accepted" },
        { "no Authorization header is refused", null, "missing token" },
        { "an exp in the past is refused", JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now, exp: Now - 30), "token is expired" },
        { "a token that is not a JWT is refused", "abc.def", "malformed token" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Authenticates_every_request(string proves, string? token, string? refusal)
    {
        var (status, contentType, body) = await _host.PostAsync(Call, bearer: token);
        Assert.Equal("application/json", contentType);
        if (refusal is null)
        {
            Assert.True(status == HttpStatusCode.OK, $"{proves}: HTTP {(int)status} {body}");
            Assert.Equal("""{"jsonrpc":"2.0","id":1,"result":3}""", body);
        }
        else
        {
            Assert.True(status == HttpStatusCode.Unauthorized, $"{proves}: HTTP {(int)status}");
            Assert.Equal($$$"""{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"{{{refusal}}}"}}""", body);
        }
    }

    [Fact]
    public async Task The_check_comes_before_content_type_and_size_checks()
    {
        var (status, _, body) = await _host.PostAsync("not json at all", contentType: "text/plain");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("missing token", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_WebSocket_upgrade_with_a_good_token_serves_requests()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now));
        await socket.ConnectAsync(WebSocketUri(), CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
        Assert.Equal("""{"jsonrpc":"2.0","id":7,"result":5}""", await RpcWebSocketTests.ExchangeAsync(socket, """{"jsonrpc":"2.0","id":7,"method":"test_add","params":[2,3]}"""));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(RpcTestHost.Timeout);
    }

    [Theory]
    [InlineData("no token on the upgrade is 401", null)]
    [InlineData("a stale token on the upgrade is 401", -61)]
    public async Task A_WebSocket_upgrade_without_a_good_token_is_401(string proves, int? drift)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (drift is { } d)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now + d));
        }

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUri(), CancellationToken.None).WaitAsync(RpcTestHost.Timeout));
        Assert.True(socket.HttpStatusCode == HttpStatusCode.Unauthorized, $"{proves}: {socket.HttpStatusCode}");
    }

    private Uri WebSocketUri() => new UriBuilder(_host.Address) { Scheme = "ws", Path = "/" }.Uri;
}
