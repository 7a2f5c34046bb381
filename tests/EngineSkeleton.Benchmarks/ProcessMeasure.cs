using System.Diagnostics;
using System.Globalization;

namespace EngineSkeleton.Benchmarks;

/// <summary>What the benchmark commands read of their own process and of the machine: resident set, CPU time, load.</summary>
internal static class ProcessMeasure
{
    /// <summary>A field of /proc/self/status in bytes (VmHWM is the peak resident set since the last reset); 0 off Linux.</summary>
    public static long Rss(string field)
    {
        if (!OperatingSystem.IsLinux())
        {
            return field == "VmHWM" ? Process.GetCurrentProcess().PeakWorkingSet64 : Environment.WorkingSet;
        }
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    /// <summary>Collects, then resets VmHWM to the current RSS (Linux ≥ 4.0: "5" to clear_refs), so each phase has its own peak.</summary>
    public static void ResetPeakRss()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        if (OperatingSystem.IsLinux())
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
    }

    /// <summary>CPU time of the whole process, every thread (the peers', the GC's) included.</summary>
    public static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>The 1, 5 and 15 minute load averages, as figures are only comparable at a similar load.</summary>
    public static string LoadAverage() =>
        OperatingSystem.IsLinux() ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
