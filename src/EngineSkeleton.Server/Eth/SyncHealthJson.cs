using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Server.Eth;

/// <summary>
/// skeleton_status' "health" (docs/reliability.md): whether the sync's machinery runs, and if not, which part failed,
/// whose fault it is, the operator's line and when it restarts. The wire names are written here only.
/// </summary>
internal static class SyncHealthJson
{
    public static Dictionary<string, object?> From(SyncHealth health) => new()
    {
        ["state"] = health.State switch
        {
            SyncHealthState.Healthy => "healthy",
            SyncHealthState.Faulted => "faulted",
            SyncHealthState.Restarting => "restarting",
            _ => throw new ArgumentOutOfRangeException(nameof(health), health.State, "a health state without a wire name"),
        },
        ["ready"] = health.IsReady,
        ["component"] = health.Fault?.Component,
        ["kind"] = health.Fault?.Kind switch
        {
            null => null,
            SyncFaultKind.DiskFull => "disk full",
            SyncFaultKind.IoError => "i/o error",
            SyncFaultKind.Locked => "locked",
            _ => "bug",
        },
        ["error"] = health.Fault?.Reason,
        ["failures"] = health.Fault?.Failures,
        ["failedAt"] = health.Fault?.At.ToString("O"),
        ["restartAt"] = health.Fault?.RestartAt?.ToString("O"),
    };
}
