using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Server.Tests.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Tests.Rpc;

/// <summary>
/// The host's layout (README.md (flags)–3.2): one Kestrel, an engine port with JWT serving engine and read targets, a public
/// port without JWT serving read targets only, both at "/".
/// </summary>
public sealed class TwoPortTests : IAsyncLifetime
{
    private static readonly long Now = JwtValidatorTests.Now.ToUnixTimeSeconds();

    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private int _enginePort;
    private int _publicPort;

    public async Task InitializeAsync()
    {
        // The pipeline needs the port numbers before Kestrel starts, so the OS picks two free ports here first.
        _enginePort = FreePort();
        _publicPort = FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, _enginePort);
            k.Listen(IPAddress.Loopback, _publicPort);
        });
        _app = builder.Build();
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var jwt = new JwtValidator(JwtSecret.FromBytes(JwtTestTokens.HiveSecret), new FakeTimeProvider(JwtValidatorTests.Now));
        var read = new ReadTarget();
        _app.UseJsonRpc(new RpcEndpointOptions("engine", RequireJwt: true) { Port = _enginePort }, [new EngineTarget(), read], json, jwt);
        _app.UseJsonRpc(new RpcEndpointOptions("http", RequireJwt: false) { Port = _publicPort }, [read], json);
        await _app.StartAsync().WaitAsync(RpcTestHost.Timeout);
        _client = new HttpClient { Timeout = RpcTestHost.Timeout };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync().WaitAsync(RpcTestHost.Timeout);
        await _app.DisposeAsync().AsTask().WaitAsync(RpcTestHost.Timeout);
    }

    public static TheoryData<string, bool, string, bool, string> Cases => new()
    {
        { "an engine method on the engine port with a token is served", true, "engine_ping", true, """{"jsonrpc":"2.0","id":1,"result":"engine"}""" },
        { "a read method on the engine port with a token is served", true, "eth_chainId", true, """{"jsonrpc":"2.0","id":1,"result":"0x1"}""" },
        { "the engine port refuses a request without a token", true, "eth_chainId", false, """{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"missing token"}}""" },
        { "a read method on the public port needs no token", false, "eth_chainId", false, """{"jsonrpc":"2.0","id":1,"result":"0x1"}""" },
        { "an engine method does not exist on the public port, token or not", false, "engine_ping", true, """{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"the method engine_ping does not exist/is not available"}}""" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Serves_each_target_set_on_its_own_port(string proves, bool enginePort, string method, bool withToken, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{(enginePort ? _enginePort : _publicPort)}/")
        {
            Content = new StringContent($$"""{"jsonrpc":"2.0","id":1,"method":"{{method}}"}""", Encoding.UTF8, "application/json"),
        };
        if (withToken)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, Now));
        }

        using var response = await _client.SendAsync(request).WaitAsync(RpcTestHost.Timeout);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(RpcTestHost.Timeout);
        Assert.True(expected == body, $"{proves}\n  expected {expected}\n  actual   {body}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class EngineTarget
    {
        [JsonRpcMethod("engine_ping")]
        public static string Ping() => "engine";
    }

    private sealed class ReadTarget
    {
        [JsonRpcMethod("eth_chainId")]
        public static string ChainId() => "0x1";
    }
}
