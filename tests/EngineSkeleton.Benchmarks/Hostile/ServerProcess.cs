using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Testing.Net;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>
/// The real server as a child process: <c>dotnet EngineSkeleton.Server.dll</c> from this build's output, on free
/// loopback ports and a temp datadir, with its output kept (a ring of the last lines, and a count of the lines it
/// logged at Error or worse), its memory read from /proc by PID, and stopped by PID.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private const int RingLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _ring = new();
    private readonly Lock _gate = new();
    private int _errorLines;
    private int _unhandledLines;

    private ServerProcess(Process process, string dataDir, int enginePort, int httpPort)
    {
        _process = process;
        DataDir = dataDir;
        EnginePort = enginePort;
        HttpPort = httpPort;
        Pid = process.Id;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data is null ? null : "!" + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid { get; }

    public string DataDir { get; }

    public int EnginePort { get; }

    public int HttpPort { get; }

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Lines at Error or Critical level ("fail:", "crit:") so far.</summary>
    public int ErrorLines => Volatile.Read(ref _errorLines);

    /// <summary>Lines that report an unhandled exception (the runtime's, or our endpoint's "Unhandled error").</summary>
    public int UnhandledLines => Volatile.Read(ref _unhandledLines);

    /// <summary>Starts the server with <paramref name="flags"/> after the common ones; returns once both ports accept.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, IEnumerable<string> flags, TimeSpan timeout)
    {
        var enginePort = FreePort.Next();
        var httpPort = FreePort.Next();
        var dll = Path.Combine(AppContext.BaseDirectory, "EngineSkeleton.Server.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDir,
        };
        foreach (var arg in (string[])[dll, "--datadir", dataDir, "--authrpc.port", Text(enginePort), "--http.port", Text(httpPort), "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover", .. flags])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server");
        var server = new ServerProcess(process, dataDir, enginePort, httpPort);
        try
        {
            await server.WaitForPortAsync(enginePort, timeout);
            await server.WaitForPortAsync(httpPort, timeout);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A field of /proc/PID/status in bytes (VmHWM: peak resident set since start; VmRSS: now); 0 if gone.</summary>
    public long Memory(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited.
        }
        return 0;
    }

    /// <summary>Open file descriptors of the server (sockets included); -1 if unreadable.</summary>
    public int OpenDescriptors()
    {
        try
        {
            return Directory.GetFiles($"/proc/{Pid}/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    public IReadOnlyList<string> RecentOutput()
    {
        lock (_gate)
        {
            return [.. _ring];
        }
    }

    /// <summary>Stops the server by its PID: SIGINT (a graceful host shutdown), then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-INT", Text(Pid) }, UseShellExecute = false }))
            {
                await kill!.WaitForExitAsync();
            }
            using var bound = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"server exited with {_process.ExitCode} before listening:\n  " + string.Join("\n  ", RecentOutput()));
            }
            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"server not listening on {port} within {timeout.TotalSeconds:F0} s:\n  " + string.Join("\n  ", RecentOutput()));
            }
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(1));
                return;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                await Task.Delay(100);
            }
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _errorLines);
        }
        if (line.Contains("Unhandled", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _unhandledLines);
        }
        lock (_gate)
        {
            _ring.Enqueue(line);
            if (_ring.Count > RingLines)
            {
                _ring.Dequeue();
            }
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
