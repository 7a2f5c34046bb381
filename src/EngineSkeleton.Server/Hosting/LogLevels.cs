
namespace EngineSkeleton.Server.Hosting;

/// <summary>geth's verbosity names and numbers mapped to .NET log levels.</summary>
internal static class LogLevels
{
    public static LogLevel? Parse(string verbosity) => verbosity.Trim().ToLowerInvariant() switch
    {
        "5" or "trace" => LogLevel.Trace,
        "4" or "debug" => LogLevel.Debug,
        "3" or "info" => LogLevel.Information,
        "2" or "warn" => LogLevel.Warning,
        "1" or "error" => LogLevel.Error,
        "0" or "crit" => LogLevel.Critical,
        _ => null,
    };
}
