using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EngineSkeleton.Server.Hosting;
using EngineSkeleton.Server.Tests.Auth;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>
/// The real node (NodeHost as Program builds it, real Kestrel on free loopback ports, the execution-apis genesis) on
/// the clock given (a FakeTimeProvider the test moves, or the system's), with what it logs captured from before it
/// starts, so the lines said at startup and at a peer's first contact are seen as an operator reads them.
/// </summary>
internal sealed class ObservedNode : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly TimeProvider _time;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private ObservedNode(NodeHost host, string dataDir, TimeProvider time, LogCapture log) => (Host, _dataDir, _time, Log) = (host, dataDir, time, log);

    public NodeHost Host { get; }

    /// <summary>Every line the node logged at warning level and above (its --verbosity here).</summary>
    public LogCapture Log { get; }

    public Uri HttpUri => new($"http://127.0.0.1:{Host.HttpPort}/");

    public static async Task<ObservedNode> StartAsync(TimeProvider? time, params string[] extraArgs)
    {
        var dataDir = Directory.CreateTempSubdirectory("es-observed-").FullName;
        NodeHost? host = null;
        try
        {
            host = NodeHost.Build(
                [
                    "--datadir", dataDir,
                    "--genesis", Path.Combine(ExecutionApisChain.Directory, "genesis.json"),
                    "--authrpc.port", "0",
                    "--http.port", "0",
                    "--port", "0",
                    "--p2p.addr", "127.0.0.1",
                    "--nodiscover",
                    "--verbosity", "warn",
                    .. extraArgs,
                ],
                time);
            var log = new LogCapture();
            host.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return new ObservedNode(host, dataDir, time ?? TimeProvider.System, log);
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

    /// <summary>A token of our secret issued now on the node's clock.</summary>
    public string Jwt() => JwtTestTokens.Hs256(Host.Secret.ToArray(), _time.GetUtcNow().ToUnixTimeSeconds());

    /// <summary>engine_exchangeCapabilities with this bearer token (none if null); the HTTP status.</summary>
    public async Task<int> EngineStatus(string? jwt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{Host.EnginePort}/")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[[]]}""", Encoding.UTF8, "application/json"),
        };
        if (jwt is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        }
        using var response = await _http.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>Calls the Engine API port with a fresh token; the whole response object.</summary>
    public Task<JsonElement> Engine(string method, params JsonNode?[] args) =>
        Call(new Uri($"http://127.0.0.1:{Host.EnginePort}/"), method, args, Jwt());

    /// <summary>Calls the public port (no JWT).</summary>
    public Task<JsonElement> Public(string method, params JsonNode?[] args) => Call(HttpUri, method, args, null);

    /// <summary>skeleton_status' diagnostics, as (code, message) pairs.</summary>
    public async Task<IReadOnlyList<(string Code, string Message)>> Diagnostics()
    {
        var status = (await Public("skeleton_status")).Result();
        return [.. status.GetProperty("diagnostics").EnumerateArray().Select(d => (d.GetProperty("code").GetString()!, d.GetProperty("message").GetString()!))];
    }

    private async Task<JsonElement> Call(Uri uri, string method, JsonNode?[] args, string? jwt)
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = new JsonArray(args) };
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (jwt is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        }
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        _http.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }
}

/// <summary>One logged line: its level, event id and the message as the console prints it.</summary>
internal sealed record LogLine(string Category, LogLevel Level, int EventId, string Message);

/// <summary>A logger provider that keeps every line; a test awaits the first line that matches (no polling).</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly List<LogLine> _lines = [];
    private readonly List<(Func<LogLine, bool> Match, TaskCompletionSource<LogLine> Seen)> _waiting = [];

    public IReadOnlyList<LogLine> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Completes with the first line (already logged or to come) that matches.</summary>
    public Task<LogLine> Logged(Func<LogLine, bool> match)
    {
        lock (_gate)
        {
            if (_lines.FirstOrDefault(match) is { } line)
            {
                return Task.FromResult(line);
            }
            var seen = new TaskCompletionSource<LogLine>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((match, seen));
            return seen.Task;
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogLine line)
    {
        lock (_gate)
        {
            _lines.Add(line);
            foreach (var waiter in _waiting.Where(w => w.Match(line)).ToArray())
            {
                _waiting.Remove(waiter);
                waiter.Seen.TrySetResult(line);
            }
        }
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add(new LogLine(category, logLevel, eventId.Id, formatter(state, exception)));
    }
}
