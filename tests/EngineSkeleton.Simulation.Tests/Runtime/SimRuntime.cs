namespace EngineSkeleton.Simulation.Tests.Runtime;

/// <summary>
/// A simulated process: the work it queued and the timers it set die with it (<see cref="Kill"/>), as a kill -9 takes
/// a node's threads and timers. Owner 0 is the simulation itself (the beacon node, the peers' network), never killed.
/// </summary>
internal sealed class SimProcessId(int number)
{
    public int Number { get; } = number;

    public bool Dead { get; private set; }

    public void Kill() => Dead = true;

    public override string ToString() => $"process {Number}";
}

/// <summary>
/// The one thread everything runs on, and its virtual clock (docs/simulation.md). Work the sync hands over
/// (<c>SyncThreading</c>'s post) waits in one list; <see cref="Step"/> runs one piece of it, picked by the seed's
/// <see cref="Random"/>, or, when nothing is ready, moves the clock to the earliest timed action (a timer, a peer's
/// answer, a head from the beacon node) and runs that. Any order of ready work is one a thread pool could have chosen;
/// the seed picks one, and the same seed picks the same one again.
/// <para>
/// Work runs outside any task scheduler and with no synchronization context, so a <c>ConfigureAwait(false)</c>
/// continuation runs inline where its task completes — on this thread. A call from any other thread (a peer asked, a
/// store written, work queued) is a finding (<see cref="ForeignThread"/>): a real thread would be deciding the
/// outcome, and the run would not replay.
/// </para>
/// </summary>
internal sealed class SimRuntime
{
    private readonly Random _random;
    private readonly List<Work> _ready = [];
    private readonly PriorityQueue<Work, (long Due, long Sequence)> _timed = new();
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private long _sequence;

    public SimRuntime(Random random, DateTimeOffset start)
    {
        _random = random;
        Start = start;
        System = new SimProcessId(0);
        Owner = System;
    }

    /// <summary>The virtual clock's origin; <see cref="Now"/> counts ticks from it.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>Virtual time since <see cref="Start"/>, in ticks (100 ns).</summary>
    public long Now { get; private set; }

    /// <summary>Steps run so far.</summary>
    public long Steps { get; private set; }

    /// <summary>The simulation's own owner (beacon node, network): never killed.</summary>
    public SimProcessId System { get; }

    /// <summary>The owner of the work now running: what it queues and the timers it sets are that process's.</summary>
    public SimProcessId Owner { get; private set; }

    /// <summary>Set when work arrived from a thread other than the simulation's: the run does not replay.</summary>
    public string? ForeignThread { get; private set; }

    /// <summary>An exception that escaped a step (a timer callback, a peer's answer, the simulation's own action).</summary>
    public string? Fault { get; private set; }

    /// <summary>Folds every scheduling decision in: two runs of a seed agree on it iff they ran the same steps.</summary>
    public TraceHash Trace { get; } = new();

    /// <summary>Called after every step (the invariants); may stop the run by setting <see cref="Stopping"/>.</summary>
    public Action? AfterStep { get; set; }

    /// <summary>The run is over (finished, failed, or out of budget): pumps throw so that every loop on the stack unwinds.</summary>
    public bool Stopping { get; set; }

    /// <summary>Runs <paramref name="action"/> at <paramref name="due"/> ticks as <paramref name="owner"/>, unless it is dead by then.</summary>
    public void At(long due, SimProcessId owner, Action action, string what) =>
        Timed(new Work(owner, action, what), Math.Max(due, Now));

    /// <summary>Queues <paramref name="action"/> as ready work of <paramref name="owner"/>.</summary>
    public void Post(SimProcessId owner, Action action, string what)
    {
        CheckThread(what);
        _ready.Add(new Work(owner, action, what));
    }

    /// <summary>Runs <paramref name="action"/> now, as <paramref name="owner"/> (what it queues is that process's).</summary>
    public void RunAs(SimProcessId owner, Action action)
    {
        var outer = Owner;
        Owner = owner;
        try
        {
            action();
        }
        finally
        {
            Owner = outer;
        }
    }

    /// <summary>
    /// One step: a ready piece of work picked by the seed, else the earliest timed action (the clock moves to it).
    /// False when there is nothing at all to do.
    /// </summary>
    public bool Step()
    {
        Work work;
        if (_ready.Count > 0)
        {
            var pick = _ready.Count == 1 ? 0 : _random.Next(_ready.Count);
            work = _ready[pick];
            _ready.RemoveAt(pick);
            Trace.Add(1, pick, _ready.Count);
        }
        else if (_timed.TryDequeue(out work!, out var key))
        {
            Now = Math.Max(Now, key.Due);
            Trace.Add(2, Now, key.Sequence);
        }
        else
        {
            return false;
        }
        Steps++;
        if (!work.Owner.Dead)
        {
            try
            {
                RunAs(work.Owner, work.Action);
            }

            catch (Exception e)
            {
                // A timer callback or a peer's answer that throws would take a real process down with it.
                Fault ??= $"{work.What} of {work.Owner} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
                Stopping = true;
            }

        }
        AfterStep?.Invoke();

        return true;
    }

    /// <summary>
    /// What the skeleton loop calls instead of blocking (<c>SyncThreading.Pump</c>): steps until <paramref name="ready"/>
    /// holds. Throws <see cref="OperationCanceledException"/> when the loop's process is dead, the run is stopping, or
    /// the loop's own token is cancelled, so the loop unwinds as it does when the node stops.
    /// </summary>
    public void Pump(SimProcessId owner, Func<bool> ready, CancellationToken token)
    {
        while (!ready())
        {
            token.ThrowIfCancellationRequested();
            if (owner.Dead || Stopping)
            {
                throw new OperationCanceledException($"{owner} is gone");
            }
            if (!Step())
            {
                throw new OperationCanceledException("nothing left to run: the simulation is idle");
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> with no synchronization context on the thread (a test runner may have set one).</summary>
    public void Install(Action body)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            body();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Drops a timer entry that was re-armed or disposed: its sequence number no longer matches.</summary>
    internal long Timed(Work work, long due)
    {
        CheckThread(work.What);
        var sequence = ++_sequence;
        _timed.Enqueue(work, (due, sequence));
        return sequence;
    }

    /// <summary>Notes a call made from a thread other than the simulation's.</summary>
    public void CheckThread(string what)
    {
        if (Environment.CurrentManagedThreadId != _thread)
        {
            ForeignThread ??= $"{what} happened on thread {Environment.CurrentManagedThreadId}, not the simulation's ({_thread}): a real thread took part";
        }
    }

    internal sealed record Work(SimProcessId Owner, Action Action, string What);
}

/// <summary>FNV-1a over 64-bit words: a fingerprint of a run's decisions, equal for equal runs.</summary>
internal sealed class TraceHash
{
    private ulong _hash = 14695981039346656037UL;

    public ulong Value => _hash;

    public void Add(long a, long b = 0, long c = 0)
    {
        Mix((ulong)a);
        Mix((ulong)b);
        Mix((ulong)c);
    }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            _hash = (_hash ^ b) * 1099511628211UL;
        }
    }

    private void Mix(ulong word)
    {
        for (var i = 0; i < 8; i++)
        {
            _hash = (_hash ^ (byte)(word >> (8 * i))) * 1099511628211UL;
        }
    }
}
