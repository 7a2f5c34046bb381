using System.Globalization;

namespace EngineSkeleton.Benchmarks;

/// <summary>The <c>--name value</c> arguments of the benchmark commands.</summary>
internal static class CommandArgs
{
    public static long Long(string[] args, string name, long fallback) =>
        String(args, name) is { } value ? long.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public static string? String(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
