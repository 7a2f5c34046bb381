using EngineSkeleton.Storage;
using EngineSkeleton.Sync.Beacon;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Supervision;

/// <summary>
/// One supervised component's failures (docs/reliability.md): what failed and whose fault it is, when it restarts,
/// and when it is well again. The component calls <see cref="Failed"/> from its catch-all, waits the delay it returns,
/// calls <see cref="Restarting"/> and then <see cref="Succeeded"/> after its first write that works. Each failure is
/// logged once at Error with its cause; the same failure again in a row only at Debug (a full disk refuses every
/// retry: one line says so, not one a minute). Thread-safe.
/// </summary>
internal sealed partial class FaultTracker(string component, TimeProvider time, ILogger logger)
{
    /// <summary>The first restart's delay: long enough not to spin on a failure that repeats at once.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest delay: a full disk freed by the operator is written to within this, and a failure that repeats costs
    /// one attempt per 30 s. geth's static-peer redial and Kubernetes' restart backoff cap at 30 s and 5 min; the
    /// shorter one, because an operator watching a full disk waits for this.
    /// </summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private SyncHealthState _state = SyncHealthState.Healthy;
    private SyncFault? _fault;
    private string? _loggedReason;

    /// <summary>The component's health now.</summary>
    public SyncHealth Health
    {
        get
        {
            lock (_lock)
            {
                return _state == SyncHealthState.Healthy ? SyncHealth.Healthy : new SyncHealth(_state, _fault);
            }
        }
    }

    /// <summary>Test hook: called once a failure is recorded and its restart is armed (<see cref="RestartArmed"/>).</summary>
    public Action<SyncFault>? AfterFailure { get; set; }

    /// <summary>The delay before the n-th restart in a row: 1 s, 2 s, 4 s, … capped at <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan BackoffAfter(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var backoff = FirstBackoff * (1L << Math.Min(failures - 1, 16));
        return backoff < MaxBackoff ? backoff : MaxBackoff;
    }

    /// <summary>Whose <paramref name="error"/> is, and the line that says it.</summary>
    public static (SyncFaultKind Kind, string Reason) Classify(Exception error) => error switch
    {
        StoreException { Kind: StoreFaultKind.DiskFull } e => (SyncFaultKind.DiskFull, e.Message),
        StoreException { Kind: StoreFaultKind.IoError } e => (SyncFaultKind.IoError, e.Message),
        StoreException { Kind: StoreFaultKind.Locked } e => (SyncFaultKind.Locked, e.Message),
        _ => (SyncFaultKind.Bug, $"{error.GetType().Name}: {error.Message}"),
    };

    /// <summary>Records a failure and returns how long to wait before restarting.</summary>
    public TimeSpan Failed(Exception error)
    {
        var (kind, reason) = Classify(error);
        SyncFault fault;
        TimeSpan delay;
        bool first;
        lock (_lock)
        {
            var failures = _fault is { } last && _state != SyncHealthState.Healthy ? last.Failures + 1 : 1;
            delay = BackoffAfter(failures);
            var now = time.GetUtcNow();
            fault = new SyncFault(component, kind, reason, now, failures, now + delay);
            _fault = fault;
            _state = SyncHealthState.Faulted;
            first = _loggedReason != reason;
            _loggedReason = reason;
        }
        if (first)
        {
            if (kind == SyncFaultKind.Bug)
            {
                Log.Bug(logger, component, delay, error);
            }
            else
            {
                // The environment's failure: the operator's line, and the cause beside it for whoever digs.
                Log.Environment(logger, component, reason, delay, error.InnerException ?? error);
            }
        }
        else
        {
            Log.Again(logger, component, fault.Failures, delay, reason);
        }
        return delay;
    }

    /// <summary>The component has armed its restart timer: a test moving a virtual clock may now pass the backoff.</summary>
    public void RestartArmed()
    {
        SyncFault? fault;
        lock (_lock)
        {
            fault = _fault;
        }
        if (fault is not null)
        {
            AfterFailure?.Invoke(fault);
        }
    }

    /// <summary>The backoff is over: the component starts again from the stored progress.</summary>
    public void Restarting()
    {
        lock (_lock)
        {
            if (_state == SyncHealthState.Faulted)
            {
                _state = SyncHealthState.Restarting;
                _fault = _fault! with { RestartAt = null };
            }
        }
        Log.Restarted(logger, component);
    }

    /// <summary>A write (or a pass with nothing to write) worked: healthy. Cheap when already healthy.</summary>
    public void Succeeded()
    {
        SyncFault? was;
        lock (_lock)
        {
            if (_state == SyncHealthState.Healthy)
            {
                return;
            }
            was = _fault;
            _state = SyncHealthState.Healthy;
            _loggedReason = null;
        }
        Log.Recovered(logger, component, was?.Failures ?? 0, was?.Reason ?? "");
    }

    private static partial class Log
    {
        [LoggerMessage(350, LogLevel.Error, "Sync component failed, restarting from the stored progress component={Component} restart={Delay}")]
        public static partial void Bug(ILogger logger, string component, TimeSpan delay, Exception exception);

        [LoggerMessage(351, LogLevel.Error, "Sync component stopped: {Reason} component={Component} retry={Delay}")]
        public static partial void Environment(ILogger logger, string component, string reason, TimeSpan delay, Exception cause);

        [LoggerMessage(352, LogLevel.Debug, "Sync component failed again component={Component} failures={Failures} retry={Delay} reason={Reason}")]
        public static partial void Again(ILogger logger, string component, int failures, TimeSpan delay, string reason);

        [LoggerMessage(353, LogLevel.Debug, "Sync component restarting component={Component}")]
        public static partial void Restarted(ILogger logger, string component);

        [LoggerMessage(354, LogLevel.Information, "Sync component resumed component={Component} failures={Failures} was={Reason}")]
        public static partial void Recovered(ILogger logger, string component, int failures, string reason);
    }
}
