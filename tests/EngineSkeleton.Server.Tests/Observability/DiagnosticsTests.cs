using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Server.Hosting;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Tests.Auth;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>
/// Each diagnostic of docs/operations.md through the real server: the line in skeleton_status and /health, with
/// the values an operator needs to act (both genesis hashes, the JWT reason and what to do).
/// </summary>
public sealed class DiagnosticsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Without_a_sync_source_the_node_says_so_at_startup_and_again_when_a_head_waits()
    {
        await using var node = await TestNode.StartAsync().WaitAsync(Bound);

        var atStartup = Assert.Single(await OperatorHttp.Diagnostics(node).WaitAsync(Bound), d => d.Code == Diagnostic.NoSyncSource);
        Assert.Contains("no --sync.rpc and no --bootnodes", atStartup.Message);
        var health = await OperatorHttp.Get(node.HttpUri, "/health").WaitAsync(Bound);
        Assert.Equal(200, health.Status);
        using (var doc = JsonDocument.Parse(health.Body))
        {
            Assert.Equal("Degraded", doc.RootElement.GetProperty("status").GetString());
            Assert.Contains(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("code").GetString() == Diagnostic.NoSyncSource);
        }

        var block = ExecutionApisChain.At(50);
        var (method, args) = PayloadWriter.NewPayload(block);
        await node.Engine(method, args).WaitAsync(Bound);
        await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(block.Header.Hash), null).WaitAsync(Bound);

        var waiting = Assert.Single(await OperatorHttp.Diagnostics(node).WaitAsync(Bound), d => d.Code == Diagnostic.NoSyncSource);
        Assert.Contains($"the head #50 {block.Header.Hash} waits and no peer is connected", waiting.Message);
    }

    [Fact]
    public async Task A_JSON_RPC_peer_on_another_chain_is_refused_at_its_first_contact_with_both_genesis_hashes_named()
    {
        var other = GeneratedChain.Headers(20, seed: 7);
        var bodies = GeneratedChain.Bodies(other);
        await using var source = await LoopbackRpcNode.StartAsync([.. other.Select((h, i) => new Block(h, bodies[i]!))]);
        await using var node = await TestNode.StartAsync("--sync.rpc", source.Url.ToString()).WaitAsync(Bound);
        await node.Host.RpcPeersContacted.WaitAsync(Bound);
        var ours = ExecutionApisChain.At(0).Header.Hash;
        var theirs = other[0].Hash;

        var line = Assert.Single(await OperatorHttp.Diagnostics(node).WaitAsync(Bound), d => d.Code == Diagnostic.PeerOnAnotherChain);
        Assert.Contains($"its genesis is {theirs}, ours is {ours}", line.Message);
        var peer = Assert.Single((await node.Public("skeleton_status").WaitAsync(Bound)).Result().GetProperty("peers").EnumerateArray());
        Assert.True(peer.GetProperty("dropped").GetBoolean());
        Assert.Contains(theirs.ToString(), peer.GetProperty("dropReason").GetString());
        Assert.Contains(ours.ToString(), (await OperatorHttp.Get(node.HttpUri, "/health").WaitAsync(Bound)).Body);
    }

    [Fact]
    public async Task A_JSON_RPC_peer_that_does_not_answer_its_first_contact_is_named_with_the_reason()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        await using var node = await TestNode.StartAsync("--sync.rpc", $"http://127.0.0.1:{port}/").WaitAsync(Bound);
        await node.Host.RpcPeersContacted.WaitAsync(Bound);

        var line = Assert.Single(await OperatorHttp.Diagnostics(node).WaitAsync(Bound), d => d.Code == Diagnostic.PeerUnreachable);
        Assert.Contains($"Peer http://127.0.0.1:{port}/ did not answer its first contact: transport error", line.Message);
        Assert.DoesNotContain(await OperatorHttp.Diagnostics(node), d => d.Code == Diagnostic.NoSyncSource); // a source is configured
    }

    public static TheoryData<string, string?, string> Silences => new()
    {
        { "no call at all", null, "no Engine API call has passed JWT since startup" },
        { "calls whose iat is two minutes old (the clocks differ)", "stale", "the clocks of the two machines differ" },
        { "calls signed with another secret", "other-secret", "the consensus client uses another JWT secret" },
        { "calls without a token", "none", "they carry no JWT" },
    };

    [Theory]
    [MemberData(nameof(Silences))]
    public async Task No_beacon_client_seen_after_two_silent_minutes_says_why_and_clears_with_the_first_good_call(string because, string? token, string expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await ClockedNode.StartAsync(time).WaitAsync(Bound);
        if (token is not null)
        {
            var iat = time.GetUtcNow().ToUnixTimeSeconds();
            var jwt = token switch
            {
                "stale" => JwtTestTokens.Hs256(node.Host.Secret.ToArray(), iat - 120),
                "other-secret" => JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, iat),
                _ => null,
            };
            Assert.Equal(401, await node.EngineStatus(jwt).WaitAsync(Bound));
        }
        time.Advance(NodeDiagnostics.BeaconSilence - TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoBeaconClient);

        time.Advance(TimeSpan.FromSeconds(2));
        var line = Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoBeaconClient);
        Assert.True(line.Message.Contains(expected, StringComparison.Ordinal), $"{because}: {line.Message}");
        Assert.True(token is null || line.Message.Contains("1 calls arrived and failed JWT", StringComparison.Ordinal), $"{because}: {line.Message}");

        Assert.Equal(200, await node.EngineStatus(JwtTestTokens.Hs256(node.Host.Secret.ToArray(), time.GetUtcNow().ToUnixTimeSeconds())).WaitAsync(Bound));
        Assert.DoesNotContain(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoBeaconClient);
    }

    /// <summary>The real node on a fake clock: the JWT check and the diagnostics read it; the test moves it.</summary>
    private sealed class ClockedNode : IAsyncDisposable
    {
        private readonly string _dataDir;
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

        private ClockedNode(NodeHost host, string dataDir) => (Host, _dataDir) = (host, dataDir);

        public NodeHost Host { get; }

        public static async Task<ClockedNode> StartAsync(TimeProvider time)
        {
            var dataDir = Directory.CreateTempSubdirectory("es-diag-").FullName;
            var host = NodeHost.Build(
                ["--datadir", dataDir, "--genesis", Path.Combine(ExecutionApisChain.Directory, "genesis.json"), "--authrpc.port", "0", "--http.port", "0", "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover", "--verbosity", "warn"],
                time);
            await host.StartAsync();
            return new ClockedNode(host, dataDir);
        }

        /// <summary>engine_exchangeCapabilities with this bearer token (none if null); the HTTP status.</summary>
        public async Task<int> EngineStatus(string? jwt)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{Host.EnginePort}/")
            {
                Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[[]]}""", System.Text.Encoding.UTF8, "application/json"),
            };
            if (jwt is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", jwt);
            }
            using var response = await _http.SendAsync(request);
            return (int)response.StatusCode;
        }

        public async Task<IReadOnlyList<(string Code, string Message)>> Diagnostics()
        {
            var status = await OperatorHttp.GetJson(new Uri($"http://127.0.0.1:{Host.HttpPort}/"), "/status");
            return [.. status.GetProperty("diagnostics").EnumerateArray().Select(d => (d.GetProperty("code").GetString()!, d.GetProperty("message").GetString()!))];
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            _http.Dispose();
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
