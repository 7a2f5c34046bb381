using System.Diagnostics;

namespace EngineSkeleton.Testing.Storage;

/// <summary>
/// A filesystem of a few megabytes that a test can fill: a tmpfs mounted on a fresh temporary directory, unmounted and
/// removed on dispose. Only root on Linux can mount one: <see cref="Unavailable"/> says why not elsewhere, for the
/// test to report itself skipped with that reason (never silently passed).
/// </summary>
public sealed class SmallFilesystem : IDisposable
{
    private SmallFilesystem(string path) => Path = path;

    /// <summary>The mount point: the directory the test puts its datadir in.</summary>
    public string Path { get; }

    /// <summary>Null when a small filesystem can be mounted here, else the reason it cannot.</summary>
    public static string? Unavailable { get; } = Probe();

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB.</summary>
    public static SmallFilesystem Mount(int megabytes)
    {
        var dir = Directory.CreateTempSubdirectory("es-small-fs-").FullName;
        if (Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", dir) is { } error)
        {
            Directory.Delete(dir);
            throw new InvalidOperationException($"mount tmpfs on {dir} failed: {error}");
        }
        return new SmallFilesystem(dir);
    }

    /// <summary>Fills the filesystem with a ballast file until a write fails; returns the file, whose deletion frees the space.</summary>
    public string Fill(long leaveBytes = 0)
    {
        var ballast = System.IO.Path.Combine(Path, $"ballast-{Guid.NewGuid():N}");
        var free = new DriveInfo(Path).AvailableFreeSpace - leaveBytes;
        using var file = new FileStream(ballast, FileMode.CreateNew, FileAccess.Write);
        var block = new byte[64 * 1024];
        try
        {
            for (long written = 0; written < free; written += block.Length)
            {
                file.Write(block, 0, (int)Math.Min(block.Length, free - written));
            }
            file.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // full before the estimate: the ballast holds what fitted
        }
        return ballast;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux (a tmpfs mount)";
        }
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root to mount a small tmpfs (run the tests as root, or in a container as root)";
        }
        try
        {
            using var probe = Mount(1);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot mount a tmpfs here: {e.Message}";
        }
        return null;
    }

    /// <summary>Runs a command to its end (bounded: 30 s); null if it succeeded, else its error output.</summary>
    private static string? Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            return $"{file} did not finish within 30 s";
        }
        return process.ExitCode == 0 ? null : $"exit {process.ExitCode}: {error.GetAwaiter().GetResult().Trim()}";
    }
}
