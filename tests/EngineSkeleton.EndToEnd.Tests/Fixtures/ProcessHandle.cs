using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A child process a test started: output captured line by line into a ring buffer for diagnostics, bounded
/// waits for a line, a port or the exit, and a stop by PID — SIGINT first (ethereumjs shuts down cleanly on
/// it), then a kill of the process tree if it has not exited within the grace period.
/// </summary>
/// <remarks>
/// Every wait is bounded and fails with <see cref="Diagnostics"/> (command, PID, exit code, last lines), so a
/// failing end-to-end test says what the third-party process printed. Windows has no SIGINT for another
/// process; there the stop is the kill.
/// </remarks>
public sealed partial class ProcessHandle : IAsyncDisposable
{
    /// <summary>Lines kept for diagnostics: enough for ethereumjs' startup banner plus its last few blocks.</summary>
    public const int DefaultRingCapacity = 400;

    /// <summary>ethereumjs 0.10.5 needs ~8 s to stop (its synchronizer sleeps one sync interval); 15 s covers a loaded CI box.</summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(15);

    private const int SigInt = 2; // Linux and macOS

    private readonly Process _process;
    private readonly Queue<string> _ring = new();
    private readonly int _ringCapacity;
    private readonly List<string>? _standardOutput;
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _lineWaiters = [];
    private readonly Lock _gate = new();
    private readonly Task _exited;
    private readonly Stopwatch _age = Stopwatch.StartNew();

    private ProcessHandle(Process process, string name, int ringCapacity, bool keepStandardOutput)
    {
        _process = process;
        Name = name;
        _ringCapacity = ringCapacity;
        _standardOutput = keepStandardOutput ? [] : null;
        process.OutputDataReceived += (_, e) => OnLine(e.Data, isStandardOutput: true);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, isStandardOutput: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Pid = process.Id;
        // WaitForExitAsync also waits for the end of both redirected streams, so no line is lost.
        _exited = WatchExitAsync();
    }

    /// <summary>Short name used in diagnostics, e.g. "ethereumjs(source)".</summary>
    public string Name { get; }

    public int Pid { get; }

    public string CommandLine => $"{_process.StartInfo.FileName} {string.Join(' ', _process.StartInfo.ArgumentList)}";

    public bool HasExited => _exited.IsCompleted;

    /// <summary>The exit code once the process has exited (and its output has been read), else null.</summary>
    public int? ExitCode => _exited.IsCompleted ? _process.ExitCode : null;

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> (no shell; each argument passed as is).
    /// <paramref name="environment"/> sets variables (a null value removes one); <paramref name="keepStandardOutput"/>
    /// keeps every stdout line (for scripts whose output is their result), not just the ring.
    /// </summary>
    public static ProcessHandle Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        bool keepStandardOutput = false,
        int ringCapacity = DefaultRingCapacity)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"{name}: could not start {fileName}");
            }
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return new ProcessHandle(process, name, ringCapacity, keepStandardOutput);
    }

    /// <summary>
    /// Runs a command to completion within <paramref name="timeout"/> and returns its exit code and stdout
    /// lines; on timeout the process is stopped and a <see cref="TimeoutException"/> carries its diagnostics.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.StartNew();
        await using var handle = Start(name, fileName, arguments, workingDirectory, environment, keepStandardOutput: true);
        var exitCode = await handle.WaitForExitAsync(timeout, cancellationToken);
        return new ProcessResult(exitCode, handle.StandardOutputLines(), handle.Diagnostics(), started.Elapsed);
    }

    /// <summary>The last lines of stdout and stderr, interleaved in arrival order; stderr lines start with "!".</summary>
    public IReadOnlyList<string> RecentOutput()
    {
        lock (_gate)
        {
            return [.. _ring];
        }
    }

    /// <summary>Every stdout line so far (only when started with keepStandardOutput).</summary>
    public IReadOnlyList<string> StandardOutputLines()
    {
        lock (_gate)
        {
            return _standardOutput is null
                ? throw new InvalidOperationException($"{Name}: started without keepStandardOutput")
                : [.. _standardOutput];
        }
    }

    /// <summary>Who, since when, how it ended, and what it said last — for assertion and timeout messages.</summary>
    public string Diagnostics()
    {
        var state = HasExited ? $"exited with code {_process.ExitCode}" : "running";
        var lines = RecentOutput();
        return $"{Name} (pid {Pid}, {state}, started {_age.Elapsed.TotalSeconds:F1} s ago)\n  command: {CommandLine}\n"
               + $"  last {lines.Count} output lines:\n    " + string.Join("\n    ", lines);
    }

    /// <summary>
    /// Waits until a line of output (already seen or still to come) matches; fails when the process exits first
    /// or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = _ring.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            if (_exited.IsCompleted)
            {
                throw new InvalidOperationException($"{Name} exited before printing the awaited line.\n{Diagnostics()}");
            }

            _lineWaiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name}: awaited line not printed within {timeout.TotalSeconds:F0} s.\n{Diagnostics()}");
        }
        finally
        {
            lock (_gate)
            {
                _lineWaiters.RemoveAll(w => w.Done == done);
            }
        }
    }

    /// <summary>Waits until a TCP connect to 127.0.0.1:<paramref name="port"/> succeeds, bounded; fails early if the process exits.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (HasExited)
            {
                throw new InvalidOperationException($"{Name} exited before listening on port {port}.\n{Diagnostics()}");
            }

            var remaining = timeout - waited.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{Name}: port {port} not listening within {timeout.TotalSeconds:F0} s.\n{Diagnostics()}");
            }

            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var client = new TcpClient())
            {
                attempt.CancelAfter(remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1));
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
                    return;
                }
                catch (SocketException)
                {
                    // Not listening yet.
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // This attempt timed out; the loop checks the overall bound.
                }
            }

            // A refused connect on loopback returns at once: pace the attempts, with the exit as the other way out.
            await Task.WhenAny(_exited, Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken));
        }
    }

    /// <summary>Waits for the exit, bounded; on timeout stops the process and throws with its diagnostics.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _exited.WaitAsync(timeout, cancellationToken);
            return _process.ExitCode;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            var diagnostics = Diagnostics();
            await StopAsync(DefaultStopGrace);
            throw e is TimeoutException
                ? new TimeoutException($"{Name} did not finish within {timeout.TotalSeconds:F0} s; stopped.\n{diagnostics}")
                : e;
        }
    }

    /// <summary>
    /// Stops the process by its PID: SIGINT, then, if it is still running after <paramref name="grace"/>, a kill of
    /// its process tree (bounded again by 10 s). Returns at once if it has already exited.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows() && NativeMethods.Kill(Pid, SigInt) == 0)
        {
            try
            {
                await _exited.WaitAsync(grace);
                return;
            }
            catch (TimeoutException)
            {
                OnLine($"[fixture] {Name} still running {grace.TotalSeconds:F0} s after SIGINT; killing pid {Pid}", isStandardOutput: false);
            }
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited in the meantime.
        }

        await _exited.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(DefaultStopGrace);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task WatchExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        List<TaskCompletionSource<string>> orphans;
        lock (_gate)
        {
            orphans = [.. _lineWaiters.Select(w => w.Done)];
        }

        foreach (var waiter in orphans)
        {
            waiter.TrySetException(new InvalidOperationException($"{Name} exited before printing the awaited line.\n{Diagnostics()}"));
        }
    }

    private void OnLine(string? line, bool isStandardOutput)
    {
        if (line is null)
        {
            return; // end of stream
        }

        List<TaskCompletionSource<string>>? matched = null;
        lock (_gate)
        {
            _ring.Enqueue(isStandardOutput ? line : "!" + line);
            if (_ring.Count > _ringCapacity)
            {
                _ring.Dequeue();
            }

            if (isStandardOutput)
            {
                _standardOutput?.Add(line);
            }

            foreach (var (match, done) in _lineWaiters)
            {
                if (match(line))
                {
                    (matched ??= []).Add(done);
                }
            }
        }

        if (matched is not null)
        {
            foreach (var done in matched)
            {
                done.TrySetResult(line);
            }
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static partial int Kill(int pid, int signal);
    }
}

/// <summary>What a process run to completion left: exit code, every stdout line, and its diagnostics.</summary>
public sealed record ProcessResult(int ExitCode, IReadOnlyList<string> StandardOutput, string Diagnostics, TimeSpan Elapsed);
