using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Debian's headless Chromium (<c>/usr/bin/chromium</c>, installed with <c>apt-get install -y chromium</c> when missing;
/// no tool that downloads a browser of its own), driven over the DevTools protocol on its own websocket with
/// <see cref="ClientWebSocket"/>. The browser is kept on loopback: no DNS (every name maps to nothing but 127.0.0.1),
/// a proxy that does not exist for anything not loopback, and no background networking, component updates or sync.
/// Stopped by its PID.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private static readonly TimeSpan InstallBound = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(120);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    private readonly ProcessHandle _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private int _nextId;
    private string? _session;
    private TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HeadlessChromium(ProcessHandle process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
        _reader = Task.Run(ReadLoopAsync);
    }

    public static async Task<HeadlessChromium> StartAsync()
    {
        await EnsureInstalledAsync();
        var profile = Directory.CreateTempSubdirectory("es-chromium-").FullName;
        var process = ProcessHandle.Start("chromium", Executable,
        [
            "--headless=new",
            "--no-sandbox", // we run as root in a container
            "--disable-gpu",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            $"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-breakpad",
            "--metrics-recording-only",
            "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
            // Nothing leaves loopback: no name resolves, and whatever is not loopback goes to a proxy that is not there.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9",
            "--window-size=1280,900",
            "about:blank",
        ]);
        try
        {
            var line = await process.WaitForLineAsync(l => l.Contains("DevTools listening on ws://", StringComparison.Ordinal), StartBound);
            var url = new Uri(line[line.IndexOf("ws://", StringComparison.Ordinal)..].Trim());
            var socket = new ClientWebSocket();
            using var connect = new CancellationTokenSource(StartBound);
            await socket.ConnectAsync(url, connect.Token);
            return new HeadlessChromium(process, profile, socket);
        }
        catch
        {
            await process.DisposeAsync();
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }

    /// <summary>The process output, for a failing test's message.</summary>
    public string Diagnostics() => _process.Diagnostics();

    /// <summary>Opens a page in a new tab, attaches to it and waits for its load event; later commands go to that tab.</summary>
    public async Task OpenAsync(Uri url)
    {
        _loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, session: false);
        var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target.GetProperty("targetId").GetString(), ["flatten"] = true }, session: false);
        _session = attached.GetProperty("sessionId").GetString();
        await SendAsync("Page.enable", []);
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });
        try
        {
            await _loaded.Task.WaitAsync(CommandBound);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{url} did not load within {CommandBound.TotalSeconds:F0} s.\n{Diagnostics()}");
        }
    }

    /// <summary>Evaluates a script in the page, awaiting a promise it returns; the value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException($"the page's script failed: {exception}");
        }
        return result.GetProperty("result").GetProperty("value");
    }

    /// <summary>A PNG of the page as it is drawn now.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
    }

    private async Task<JsonElement> SendAsync(string method, JsonObject parameters, bool session = true)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        if (session && _session is not null)
        {
            message["sessionId"] = _session;
        }
        var done = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = done;
        await _sendGate.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, _stop.Token);
        }
        finally
        {
            _sendGate.Release();
        }
        try
        {
            return await done.Task.WaitAsync(CommandBound);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"DevTools {method} not answered within {CommandBound.TotalSeconds:F0} s.\n{Diagnostics()}");
        }
    }

    /// <summary>Answers go to their command by id; of the events, only the page's load is waited for.</summary>
    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var received = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                {
                    continue;
                }
                using var doc = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                if (doc.RootElement.TryGetProperty("method", out var method) && method.GetString() == "Page.loadEventFired")
                {
                    _loaded.TrySetResult();
                }
                if (doc.RootElement.TryGetProperty("id", out var idElement) && _pending.TryRemove(idElement.GetInt32(), out var waiter))
                {
                    if (doc.RootElement.TryGetProperty("error", out var error))
                    {
                        waiter.TrySetException(new InvalidOperationException($"DevTools error: {error}"));
                    }
                    else
                    {
                        waiter.TrySetResult(doc.RootElement.GetProperty("result").Clone());
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // Stopping, or the browser went away: pending commands fail below.
        }
        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetException(new InvalidOperationException($"the browser closed its DevTools socket.\n{Diagnostics()}"));
        }
    }

    /// <summary>Installs Debian's chromium package when /usr/bin/chromium is missing (the tests run as root), once per process.</summary>
    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists(Executable))
        {
            return;
        }
        await InstallGate.WaitAsync();
        try
        {
            if (File.Exists(Executable))
            {
                return;
            }
            var environment = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
            var install = await ProcessHandle.RunAsync("apt-get install", "apt-get", ["install", "-y", "chromium"], InstallBound, environment: environment);
            if (install.ExitCode != 0)
            {
                // A fresh container has no package lists yet.
                var update = await ProcessHandle.RunAsync("apt-get update", "apt-get", ["update"], InstallBound, environment: environment);
                install = await ProcessHandle.RunAsync("apt-get install", "apt-get", ["install", "-y", "chromium"], InstallBound, environment: environment);
                if (install.ExitCode != 0)
                {
                    throw new InvalidOperationException($"cannot install chromium with apt-get:\n{update.Diagnostics}\n{install.Diagnostics}");
                }
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        _socket.Dispose();
        await _process.DisposeAsync();
        _stop.Dispose();
        _sendGate.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it exits; the temp folder is cleaned with the machine.
        }
    }
}
