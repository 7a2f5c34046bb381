using System.Text.Json;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Tests.Rpc;

public sealed class RpcEndpointTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static TheoryData<string, int, int, string, bool> Routing => new()
    {
        { "the engine endpoint answers on its own port and path", 8551, 8551, "/", true },
        { "a request on the public port never reaches the engine targets", 8551, 8545, "/", false },
        { "an endpoint with port 0 answers on any port", 0, 8545, "/", true },
        { "other paths on the same port are left to other routes (/health)", 8551, 8551, "/health", false },
    };

    [Theory]
    [MemberData(nameof(Routing))]
    public async Task Binds_targets_to_one_kestrel_port(string proves, int endpointPort, int localPort, string path, bool matches)
    {
        await using var endpoint = new RpcEndpoint(new RpcEndpointOptions("engine", false) { Port = endpointPort }, [new TestTarget()], Json, null, NullLoggerFactory.Instance);
        var context = new DefaultHttpContext();
        context.Connection.LocalPort = localPort;
        context.Request.Path = path;
        Assert.True(endpoint.Matches(context) == matches, proves);
    }

    [Fact]
    public async Task Lists_exactly_the_attributed_method_names_sorted()
    {
        await using var endpoint = new RpcEndpoint(new RpcEndpointOptions("test", false), [new TestTarget(), new OtherTarget()], Json, null, NullLoggerFactory.Instance);
        Assert.Equal(
            ["other_ping", "test_add", "test_block", "test_crash", "test_echo", "test_kinds", "test_notify", "test_record", "test_throws", "test_wait"],
            endpoint.MethodNames);
    }

    [Fact]
    public void Refuses_a_method_served_twice() =>
        Assert.Throws<InvalidOperationException>(() => RpcMethodTable.Build([new OtherTarget(), new OtherTarget()]));

    /// <summary>Sentence → options the endpoint must refuse (and whether a validator is passed).</summary>
    private static readonly Dictionary<string, (RpcEndpointOptions Options, bool WithValidator)> Bad = new()
    {
        ["a zero body cap"] = (new RpcEndpointOptions("x", false, 0), false),
        ["a body cap beyond what one array can hold"] = (new RpcEndpointOptions("x", false, 3L * 1024 * 1024 * 1024), false),
        ["a zero batch limit"] = (new RpcEndpointOptions("x", false) { MaxBatchItems = 0 }, false),
        ["a relative path"] = (new RpcEndpointOptions("x", false) { Path = "rpc" }, false),
        ["a port beyond 65535"] = (new RpcEndpointOptions("x", false) { Port = 70000 }, false),
        ["RequireJwt without a validator"] = (new RpcEndpointOptions("x", true), false),
        ["a validator on an endpoint that does not require JWT"] = (new RpcEndpointOptions("x", false), true),
    };

    public static TheoryData<string> BadOptions => [.. Bad.Keys];

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Refuses_bad_options_at_startup(string proves)
    {
        var (options, withValidator) = Bad[proves];
        var jwt = withValidator ? new JwtValidator(JwtSecret.CreateRandom(), TimeProvider.System) : null;
        var ex = Assert.ThrowsAny<ArgumentException>(() => new RpcEndpoint(options, [new TestTarget()], Json, jwt, NullLoggerFactory.Instance));
        Assert.False(string.IsNullOrEmpty(ex.Message), proves);
    }

    private sealed class OtherTarget
    {
        [JsonRpcMethod("other_ping")]
        public static string Ping() => "pong";
    }
}
