namespace EngineSkeleton.Simulation.Tests.Runtime;

/// <summary>
/// A process's clock: virtual time from the <see cref="SimRuntime"/>, timers that are timed actions of that process
/// (they die with it). Written here rather than FakeTimeProvider because the simulation must know when the next timer
/// is due and must run its callback as a step of its own, in the seed's order, not inside a call that moves the clock.
/// </summary>
internal sealed class SimClock(SimRuntime runtime, SimProcessId owner) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => runtime.Start + TimeSpan.FromTicks(runtime.Now);

    public override long GetTimestamp() => runtime.Now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(runtime, owner, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class Timer(SimRuntime runtime, SimProcessId owner, TimerCallback callback, object? state) : ITimer
    {
        private long _armed; // the sequence number of the live entry; older entries are ignored when they come due
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }
            _period = period;
            _armed = 0;
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Arm(dueTime);
            }
            return true;
        }

        private void Arm(TimeSpan due)
        {
            long sequence = 0;
            sequence = runtime.Timed(new SimRuntime.Work(owner, () => Fire(sequence), "timer"), runtime.Now + Math.Max(0, due.Ticks));
            _armed = sequence;
        }

        private void Fire(long sequence)
        {
            if (_disposed || sequence != _armed)
            {
                return;
            }
            _armed = 0;
            if (_period != Timeout.InfiniteTimeSpan && _period > TimeSpan.Zero)
            {
                Arm(_period);
            }
            callback(state);
        }

        public void Dispose()
        {
            _disposed = true;
            _armed = 0;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
