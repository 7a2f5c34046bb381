using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Testing.Engine;

namespace EngineSkeleton.Benchmarks.RpcSync;

/// <summary>
/// The real server as README starts it, as a child process of the <c>rpcsync</c> benchmark: the built
/// EngineSkeleton.Server.dll under <c>dotnet</c>, free loopback ports, a temp datadir, <c>--sync.rpc</c> at the
/// loopback peer, no devp2p reach (<c>--port 0 --p2p.addr 127.0.0.1 --nodiscover</c>). Its output goes to a log file;
/// it is stopped by its PID. CPU and peak RSS are read from /proc/PID.
/// </summary>
internal sealed class ServerChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly byte[] _secret;
    private long _id;
    private bool _disposed;

    private ServerChild(Process process, StreamWriter log, string dataDir, int enginePort, int httpPort)
    {
        _process = process;
        _log = log;
        DataDir = dataDir;
        EngineUrl = new Uri($"http://127.0.0.1:{enginePort}/");
        RpcUrl = new Uri($"http://127.0.0.1:{httpPort}/");
        _secret = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(Path.Combine(dataDir, "jwtsecret"), Convert.ToHexStringLower(_secret));
    }

    public string DataDir { get; }

    public Uri EngineUrl { get; }

    public Uri RpcUrl { get; }

    public int Pid => _process.Id;

    public string LogFile { get; private set; } = "";

    public static async Task<ServerChild> StartAsync(string serverDll, string genesisFile, Uri peer, string dataDir, string logFile, IReadOnlyList<string> extraFlags)
    {
        Directory.CreateDirectory(dataDir);
        var enginePort = FreePort();
        var httpPort = FreePort();
        var secretFile = Path.Combine(dataDir, "jwtsecret");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        foreach (var arg in (string[])[
            serverDll, "--datadir", dataDir, "--genesis", genesisFile,
            "--authrpc.port", Str(enginePort), "--authrpc.jwtsecret", secretFile, "--http.port", Str(httpPort),
            "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover", "--sync.rpc", peer.ToString(), .. extraFlags])
        {
            info.ArgumentList.Add(arg);
        }
        var log = new StreamWriter(logFile) { AutoFlush = false };
        // The secret exists before the process starts, so the server reads it instead of creating one.
        var child = new ServerChild(new Process { StartInfo = info }, log, dataDir, enginePort, httpPort) { LogFile = logFile };
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                await child.RpcAsync("eth_chainId", "[]", deadline.Token);
                return child;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !deadline.IsCancellationRequested && !child._process.HasExited)
            {
                await Task.Delay(100, CancellationToken.None); // cross-process: a port is only seen open by trying it
            }
        }
    }

    /// <summary>utime + stime of the child from /proc/PID/stat, all its threads.</summary>
    public TimeSpan Cpu()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 0, utime field 11, stime field 12 (proc(5) fields 14 and 15).
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>A field of /proc/PID/status in bytes (VmHWM: peak resident set).</summary>
    public long Status(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    public async Task<JsonElement> RpcAsync(string method, string parameters, CancellationToken cancellationToken) =>
        await CallAsync(RpcUrl, method, parameters, jwt: false, cancellationToken);

    public async Task<JsonElement> EngineAsync(string method, string parameters, CancellationToken cancellationToken) =>
        await CallAsync(EngineUrl, method, parameters, jwt: true, cancellationToken);

    /// <summary>engine_newPayloadV4 of a Prague block (no execution requests); returns the status.</summary>
    public async Task<string> NewPayloadAsync(Block block, CancellationToken cancellationToken)
    {
        var (method, args) = PayloadWriter.NewPayload(block);
        var result = await EngineAsync(method, new JsonArray(args).ToJsonString(), cancellationToken);
        return result.GetProperty("status").GetString()!;
    }

    /// <summary>engine_forkchoiceUpdatedV3 with head = safe = finalized = <paramref name="head"/>; returns the status.</summary>
    public async Task<string> ForkchoiceUpdatedAsync(Hash256 head, CancellationToken cancellationToken)
    {
        var result = await EngineAsync("engine_forkchoiceUpdatedV3",
            $"[{{\"headBlockHash\":\"{head}\",\"safeBlockHash\":\"{head}\",\"finalizedBlockHash\":\"{head}\"}},null]", cancellationToken);
        return result.GetProperty("payloadStatus").GetProperty("status").GetString()!;
    }

    /// <summary>Stops the child by its PID (SIGKILL: nothing of its state is needed after the measurement).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
            }
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            lock (_log)
            {
                _log.Dispose();
            }
            _process.Dispose();
            _http.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            if (_log.BaseStream.CanWrite)
            {
                _log.WriteLine(line);
            }
        }
    }

    private async Task<JsonElement> CallAsync(Uri url, string method, string parameters, bool jwt, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _id);
        using var content = new StringContent($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{method}\",\"params\":{parameters}}}", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        if (jwt)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Jwt());
        }
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        using var doc = JsonDocument.Parse(text);
        if (doc.RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{method} answered error {error}");
        }
        return doc.RootElement.GetProperty("result").Clone();
    }

    /// <summary>An HS256 JWT whose only claim is iat = now (Engine API authentication).</summary>
    private string Jwt()
    {
        var signingInput = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8) + "."
            + Base64Url(Encoding.UTF8.GetBytes($"{{\"iat\":{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}"));
        return signingInput + "." + Base64Url(HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
