using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;

namespace EngineSkeleton.Benchmarks.Load;

/// <summary>
/// <c>load</c> mode: closed-loop HTTP load (N workers, each sends its next request when the last one is answered).
/// <list type="bullet">
/// <item><c>load --compare</c> starts, in this process, a bare Kestrel endpoint that returns a constant and a JSON-RPC
/// endpoint with JWT serving a stub <c>engine_exchangeCapabilities</c>, and loads both the same way (docs/quality.md).</item>
/// <item><c>load --compare --node</c> does the same with the real node (NodeHost, the real engine handlers, the
/// execution-apis genesis) in place of the stub; <c>--method fcu</c> loads <c>engine_forkchoiceUpdatedV1</c> on the
/// known head instead of <c>engine_exchangeCapabilities</c>.</item>
/// <item><c>load --url URL [--jwt-secret FILE]</c> loads a running node.</item>
/// </list>
/// Options: <c>--concurrency N</c> (16), <c>--seconds S</c> (10), <c>--token-every-ms MS</c> (5000; 0 = a new token per
/// request, the worst case for the server's token cache), <c>--rounds R</c> (5, for --compare).
/// </summary>
internal static class LoadCommand
{
    private const string CapabilitiesRequest = """{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[["engine_newPayloadV4"]]}""";

    private static string Request = CapabilitiesRequest;
    private const string Constant = """{"jsonrpc":"2.0","id":1,"result":["engine_newPayloadV4"]}""";

    public static async Task<int> RunAsync(string[] args)
    {
        var concurrency = IntArg(args, "--concurrency", 16);
        var seconds = IntArg(args, "--seconds", 10);
        var tokenEveryMs = IntArg(args, "--token-every-ms", 5000);
        if (args.Contains("--compare"))
        {
            var secret = RandomNumberGenerator.GetBytes(32);
            await using var bare = await StartBareAsync();
            await using var rpc = args.Contains("--node") ? await StartNodeAsync(args.Contains("--method") && StringArg(args, "--method") == "fcu") : await StartRpcAsync(secret);
            secret = rpc.Secret ?? secret;
            var warm = TimeSpan.FromSeconds(2);
            await RunLoadAsync(bare.Url, null, concurrency, warm, tokenEveryMs);
            await RunLoadAsync(rpc.Url, secret, concurrency, warm, tokenEveryMs);
            // Interleaved rounds: on a shared machine the background load drifts, and drift must hit both sides alike.
            var rounds = IntArg(args, "--rounds", 5);
            var slice = TimeSpan.FromSeconds((double)seconds / rounds);
            var baselineRounds = new List<Result>();
            var measuredRounds = new List<Result>();
            for (var round = 0; round < rounds; round++)
            {
                baselineRounds.Add(await RunLoadAsync(bare.Url, null, concurrency, slice, tokenEveryMs));
                measuredRounds.Add(await RunLoadAsync(rpc.Url, secret, concurrency, slice, tokenEveryMs));
            }

            var baseline = Result.Merge(baselineRounds);
            var measured = Result.Merge(measuredRounds);
            Print("bare Kestrel, constant", baseline);
            Print("JSON-RPC + JWT", measured);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio: {measured.PerSecond / baseline.PerSecond:P0} of bare throughput (docs/quality.md bar: >= 50%)"));
            return 0;
        }

        var url = StringArg(args, "--url") ?? throw new ArgumentException("load needs --compare or --url URL");
        var secretFile = StringArg(args, "--jwt-secret");
        var key = secretFile is null ? null : JwtSecret.Load(secretFile).ToArray();
        Print(url, await RunLoadAsync(new Uri(url), key, concurrency, TimeSpan.FromSeconds(seconds), tokenEveryMs));
        return 0;
    }

    private static async Task<Result> RunLoadAsync(Uri url, byte[]? secret, int concurrency, TimeSpan duration, int tokenEveryMs)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var body = Encoding.UTF8.GetBytes(Request);
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var latencies = new List<long>[concurrency];
        var failures = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async w =>
        {
            var mine = latencies[w] = new List<long>(1 << 16);
            string? token = null;
            var tokenAt = 0L;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                if (secret is not null)
                {
                    if (token is null || Stopwatch.GetElapsedTime(tokenAt).TotalMilliseconds >= tokenEveryMs)
                    {
                        token = Token(secret);
                        tokenAt = Stopwatch.GetTimestamp();
                    }

                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                }

                var start = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                mine.Add(Stopwatch.GetTimestamp() - start);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        return new Result([.. latencies.SelectMany(l => l)], failures, elapsed);
    }

    private static void Print(string name, Result r) => Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{name,-24} {r.PerSecond,10:F0} req/s  p50 {r.P50Ms:F3} ms  p99 {r.P99Ms:F3} ms  requests {r.Requests}  non-200 {r.Failures}"));

    private static async Task<Server> StartBareAsync()
    {
        var app = NewApp();
        var constant = Encoding.UTF8.GetBytes(Constant);
        app.MapPost("/", async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = constant.Length;
            await context.Response.Body.WriteAsync(constant);
        });
        return await Server.StartAsync(app);
    }

    private static async Task<Server> StartRpcAsync(byte[] secret)
    {
        var app = NewApp();
        var jwt = new JwtValidator(JwtSecret.FromBytes(secret), TimeProvider.System);
        app.UseJsonRpc(new RpcEndpointOptions("engine", RequireJwt: true), [new StubEngine()], new JsonSerializerOptions(JsonSerializerDefaults.Web), jwt);
        return await Server.StartAsync(app);
    }

    /// <summary>The real node, as Program builds it, on a fresh datadir with the execution-apis genesis.</summary>
    private static async Task<Server> StartNodeAsync(bool forkchoice)
    {
        var dataDir = Directory.CreateTempSubdirectory("es-load-").FullName;
        var genesis = Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "genesis.json");
        var node = EngineSkeleton.Server.Hosting.NodeHost.Build(["--datadir", dataDir, "--genesis", genesis, "--authrpc.port", "0", "--http.port", "0", "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover", "--verbosity", "error"]);
        await node.StartAsync();
        if (forkchoice)
        {
            var head = node.Store.HeadHeader.Hash.ToString();
            Request = $$"""{"jsonrpc":"2.0","id":1,"method":"engine_forkchoiceUpdatedV1","params":[{"headBlockHash":"{{head}}","safeBlockHash":"{{head}}","finalizedBlockHash":"{{head}}"},null]}""";
        }
        return new Server(node.App, new Uri($"http://127.0.0.1:{node.EnginePort}/"), node.Secret.ToArray(), async () =>
        {
            await node.DisposeAsync();
            Directory.Delete(dataDir, recursive: true);
        });
    }

    private static WebApplication NewApp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        return builder.Build();
    }

    private static string Token(byte[] secret)
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var input = B64("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray()) + "." + B64(Encoding.UTF8.GetBytes($"{{\"iat\":{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}"));
        return input + "." + B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    private static int IntArg(string[] args, string name, int fallback) =>
        StringArg(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? StringArg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed record Result(long[] Latencies, int Failures, TimeSpan Elapsed)
    {
        public int Requests => Latencies.Length;

        public double PerSecond => Requests / Elapsed.TotalSeconds;

        public double P50Ms => Percentile(0.50);

        public double P99Ms => Percentile(0.99);

        public static Result Merge(List<Result> rounds) => new(
            [.. rounds.SelectMany(r => r.Latencies)],
            rounds.Sum(r => r.Failures),
            TimeSpan.FromTicks(rounds.Sum(r => r.Elapsed.Ticks)));

        private double Percentile(double q)
        {
            if (Latencies.Length == 0)
            {
                return 0;
            }

            var sorted = Latencies.Order().ToArray();
            return sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)] * 1000.0 / Stopwatch.Frequency;
        }
    }

    private sealed class Server(WebApplication app, Uri url, byte[]? secret = null, Func<Task>? dispose = null) : IAsyncDisposable
    {
        public Uri Url { get; } = url;

        public byte[]? Secret { get; } = secret;

        public static async Task<Server> StartAsync(WebApplication app)
        {
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new Server(app, new Uri(address + "/"));
        }

        public async ValueTask DisposeAsync()
        {
            if (dispose is not null)
            {
                await dispose();
                return;
            }
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>The transport's share of exchangeCapabilities: a constant answer, no engine behind it.</summary>
    private sealed class StubEngine
    {
        private static readonly string[] Capabilities = ["engine_newPayloadV4"];

        [JsonRpcMethod("engine_exchangeCapabilities")]
        public static string[] ExchangeCapabilities(JsonElement capabilities = default) => Capabilities;
    }
}
