using System.Diagnostics;
using System.Globalization;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// The sync host (tests/EngineSkeleton.SyncHost) as the crash tests drive it: started on a datadir, killed with
/// SIGKILL, its printed <c>kind key=value ...</c> lines read back; and the size and seed of a crash run, which come
/// from the environment so a failure can be replayed.
/// </summary>
public static class SyncHostProcess
{
    /// <summary>Starts the host on <paramref name="dataDir"/> syncing a generated chain; <paramref name="extra"/> follows the common arguments.</summary>
    public static ProcessHandle Start(string dataDir, ulong headers, ulong chainSeed, int peers, params string[] extra)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "synchost", "EngineSkeleton.SyncHost.dll");
        Assert.True(File.Exists(host), $"{host} is missing: the test project copies EngineSkeleton.SyncHost's output there on build (CopySyncHost)");
        return ProcessHandle.Start(
            "synchost",
            "dotnet",
            [host, "--datadir", dataDir, "--headers", Text(headers), "--seed", Text(chainSeed), "--peers", Text((ulong)peers), .. extra],
            workingDirectory: dataDir,
            keepStandardOutput: true);
    }

    /// <summary>SIGKILL by PID: no handler runs, no stream is flushed, no transaction is finished.</summary>
    public static void KillNow(ProcessHandle host)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            using var process = Process.GetProcessById(host.Pid);
            process.Kill(); // SIGKILL on Linux and macOS
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Already gone; the exit code check says how.
        }
    }

    /// <summary>The value of <paramref name="key"/>= in a host line that starts with <paramref name="kind"/>, or null.</summary>
    public static ulong? Field(string line, string kind, string key)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!line.StartsWith(kind + " ", StringComparison.Ordinal))
        {
            return null;
        }
        foreach (var part in line.Split(' '))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal) && ulong.TryParse(part.AsSpan(key.Length + 1), CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>The run's size from <paramref name="variable"/>, at least <paramref name="smallest"/>; <paramref name="fallback"/> when unset.</summary>
    public static ulong SizeFromEnvironment(string variable, ulong fallback, ulong smallest)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        Assert.True(ulong.TryParse(text, CultureInfo.InvariantCulture, out var size) && size >= smallest, $"{variable}={text}: give a number of at least {smallest}");
        return size;
    }

    /// <summary>The seed from <paramref name="variable"/>, or a fresh one (the test prints it, so a failure can be replayed).</summary>
    public static int SeedFromEnvironment(string variable)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text))
        {
            return Random.Shared.Next();
        }
        Assert.True(int.TryParse(text, CultureInfo.InvariantCulture, out var seed), $"{variable}={text} is not an int");
        return seed;
    }

    private static string Text(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
