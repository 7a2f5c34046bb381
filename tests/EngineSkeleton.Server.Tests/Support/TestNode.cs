using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EngineSkeleton.Server.Hosting;
using EngineSkeleton.Server.Tests.Auth;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.DependencyInjection;

namespace EngineSkeleton.Server.Tests.Support;

/// <summary>
/// The real node (NodeHost, as Program builds it) on free loopback ports with the execution-apis genesis and a
/// fresh datadir; a JSON-RPC client that signs a fresh JWT per request.
/// </summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private TestNode(NodeHost host, string dataDir)
    {
        Host = host;
        _dataDir = dataDir;
    }

    public NodeHost Host { get; }

    /// <summary>The node's temporary datadir, deleted when the node is disposed.</summary>
    public string DataDir => _dataDir;

    public Uri EngineUri => new($"http://127.0.0.1:{Host.EnginePort}/");

    public Uri HttpUri => new($"http://127.0.0.1:{Host.HttpPort}/");

    public static Task<TestNode> StartAsync(params string[] extraArgs) =>
        StartAsync(Path.Combine(ExecutionApisChain.Directory, "genesis.json"), [], extraArgs);

    /// <summary>The node started for another chain's genesis.json (e.g. one whose descendants GeneratedChain builds).</summary>
    public static Task<TestNode> StartWithGenesisAsync(string genesisPath, params string[] extraArgs) =>
        StartAsync(genesisPath, [], extraArgs);

    /// <summary>
    /// A node for the chain of <paramref name="genesis"/> whose syncer has <paramref name="peers"/> before it starts
    /// (so a --sync.checkpoint block can be fetched from them at startup).
    /// </summary>
    public static async Task<TestNode> StartAsync(string genesis, IReadOnlyList<ISyncPeer> peers, params string[] extraArgs)
    {
        var dataDir = Directory.CreateTempSubdirectory("es-node-").FullName;
        NodeHost? host = null;
        try
        {
            host = NodeHost.Build(
            [
                "--datadir", dataDir,
                "--genesis", genesis,
                "--authrpc.port", "0",
                "--http.port", "0",
                "--port", "0",
                "--p2p.addr", "127.0.0.1",
                "--nodiscover",
                "--verbosity", "warn",
                .. extraArgs,
            ]);
            foreach (var peer in peers)
            {
                host.App.Services.GetRequiredService<SkeletonSync>().AddPeer(peer);
            }
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return new TestNode(host, dataDir);
        }
        catch
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }
            Directory.Delete(dataDir, recursive: true);
            throw;
        }
    }

    /// <summary>Makes blocks 1..<paramref name="number"/> of the execution-apis chain the node's canonical chain.</summary>
    public void SeedThrough(ulong number)
    {
        Host.Store.WriteBlocks([.. ExecutionApisChain.Blocks.Take((int)number)]);
        Host.Store.SetForkchoice(ExecutionApisChain.At(number).Header, null, null);
    }

    /// <summary>Hands the node's syncer an in-process peer, as --sync.rpc would a JSON-RPC one.</summary>
    public void AddPeer(ISyncPeer peer) => Host.App.Services.GetRequiredService<SkeletonSync>().AddPeer(peer);

    /// <summary>Completes when the backfiller has made block <paramref name="number"/> (or a higher one) canonical.</summary>
    public Task Backfilled(ulong number)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ((Backfiller)Host.App.Services.GetRequiredService<IBackfiller>()).AfterRun = head =>
        {
            if (head.Number >= number)
            {
                done.TrySetResult();
            }
        };
        return done.Task;
    }

    /// <summary>
    /// forkchoiceUpdatedV3(head) as a beacon node sends it, repeated (at most 10 times, as a beacon node would every
    /// slot) while the node could not get the head's header from a peer within its 1 s bound (a loaded machine) and
    /// so only announced the hash. Returns the last answer: SYNCING once a sync has started on the header.
    /// <paramref name="finalized"/> goes as finalizedBlockHash (zero when null).
    /// </summary>
    public async Task<JsonElement> ForkchoiceStartingSync(EngineSkeleton.Core.Primitives.Hash256 head, EngineSkeleton.Core.Primitives.Hash256? finalized = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var answer = await Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head, finalized: finalized), null);
            var status = (await Public("skeleton_status")).Result();
            var started = status.GetProperty("announcedNumber").ValueKind != JsonValueKind.Null;
            if (answer.FcuStatus() != "SYNCING" || started || attempt == 10)
            {
                return answer;
            }
        }
    }

    public string Jwt() => JwtTestTokens.Hs256(Host.Secret.ToArray(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary>Calls the Engine API port; returns the whole response object.</summary>
    public Task<JsonElement> Engine(string method, params JsonNode?[] args) => Call(EngineUri, method, args, jwt: true);

    /// <summary>Calls the public port (no JWT).</summary>
    public Task<JsonElement> Public(string method, params JsonNode?[] args) => Call(HttpUri, method, args, jwt: false);

    public async Task<(int Status, string Body)> PostRaw(Uri uri, string body, bool jwt, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (jwt)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Jwt());
        }
        using var response = await _http.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> Call(Uri uri, string method, JsonNode?[] args, bool jwt)
    {
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = new JsonArray(args) };
        var (status, body) = await PostRaw(uri, request.ToJsonString(), jwt);
        Assert.True(status == 200, $"HTTP {status}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        _http.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }
}

internal static class RpcResponse
{
    public static JsonElement Result(this JsonElement response) =>
        response.TryGetProperty("result", out var result) ? result : throw new Xunit.Sdk.XunitException($"expected a result, got {response}");

    public static int ErrorCode(this JsonElement response) =>
        response.TryGetProperty("error", out var error) ? error.GetProperty("code").GetInt32() : throw new Xunit.Sdk.XunitException($"expected an error, got {response}");

    public static string Status(this JsonElement response) => response.Result().GetProperty("status").GetString()!;

    public static string FcuStatus(this JsonElement response) => response.Result().GetProperty("payloadStatus").GetProperty("status").GetString()!;
}
