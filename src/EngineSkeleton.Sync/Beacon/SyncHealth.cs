namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// Whether the sync's own machinery runs (docs/reliability.md): the skeleton loop and the backfiller are supervised,
/// and a failure inside either is a state the host reads here, not a dead thread behind a healthy face. A readiness
/// check answers "not ready" unless <see cref="IsReady"/>, with <see cref="Fault"/>'s reason.
/// </summary>
/// <param name="State">The worse of the two components' states.</param>
/// <param name="Fault">The fault that made it so (the latest one while a component is not healthy), or null.</param>
public sealed record SyncHealth(SyncHealthState State, SyncFault? Fault)
{
    public static readonly SyncHealth Healthy = new(SyncHealthState.Healthy, null);

    /// <summary>True when both components run: what /health/ready reads.</summary>
    public bool IsReady => State == SyncHealthState.Healthy;
}

/// <summary>A supervised component's state.</summary>
public enum SyncHealthState
{
    /// <summary>Running, or idle for want of work; the last failure (if any) is behind it.</summary>
    Healthy,

    /// <summary>Failed; waiting out its backoff until <see cref="SyncFault.RestartAt"/>.</summary>
    Faulted,

    /// <summary>Restarted from the stored progress; healthy again once a write succeeds.</summary>
    Restarting,
}

/// <summary>Whose a failure is: the machine's (the operator acts) or ours (a bug to report).</summary>
public enum SyncFaultKind
{
    /// <summary>The filesystem is full: free space and the sync resumes by itself.</summary>
    DiskFull,

    /// <summary>The disk failed a read or write, or a file is not writable.</summary>
    IoError,

    /// <summary>Another process holds a store's file.</summary>
    Locked,

    /// <summary>Anything else: a bug or a state the code did not expect. Restarted all the same.</summary>
    Bug,
}

/// <summary>One component's failure as the operator sees it.</summary>
/// <param name="Component">"skeleton" (the header loop) or "backfill" (the body filler).</param>
/// <param name="Kind">Whose failure it is.</param>
/// <param name="Reason">One line: for the environment's failures, what to do ("disk full at …: free space and the sync resumes").</param>
/// <param name="At">When it failed (the last time, for repeated failures).</param>
/// <param name="Failures">Failures in a row, this one included.</param>
/// <param name="RestartAt">When the component restarts; null once it has.</param>
public sealed record SyncFault(string Component, SyncFaultKind Kind, string Reason, DateTimeOffset At, int Failures, DateTimeOffset? RestartAt);
