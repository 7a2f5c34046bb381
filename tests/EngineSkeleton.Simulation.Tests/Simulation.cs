using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Simulation.Tests.Runtime;
using EngineSkeleton.Simulation.Tests.World;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Simulation.Tests;

/// <summary>How one seed's run ended.</summary>
/// <param name="Seed">The seed: <c>SIM_SEED=seed</c> replays it.</param>
/// <param name="Failure">The first invariant broken (or why the run did not finish), null when it passed.</param>
/// <param name="Trace">A fingerprint of every decision the run took: equal for two runs of one seed.</param>
/// <param name="Steps">Simulation steps run: pieces of work and timed actions (timers, answers, heads).</param>
/// <param name="Writes">Store transactions attempted, both stores.</param>
/// <param name="Kills">Processes killed at a crash point and restarted on what they had committed.</param>
/// <param name="Heads">Heads the beacon node handed over (forced and not, re-sends included).</param>
/// <param name="Virtual">Virtual time the run took.</param>
internal sealed record SimResult(int Seed, string? Failure, ulong Trace, long Steps, long Writes, int Kills, int Heads, TimeSpan Virtual)
{
    public bool Passed => Failure is null;

    public string ReplayCommand => $"SIM_SEED={Seed} dotnet test tests/EngineSkeleton.Simulation.Tests";
}

/// <summary>
/// One seed's run (docs/simulation.md): a schedule of heads, peers joining and leaving, and crash points, all drawn
/// from <c>new Random(seed)</c>; the real sync runs it on one thread under a virtual clock; the invariants are checked
/// after every step; the run passes when the schedule is over and the last forced head is VALID (canonical, filled).
/// </summary>
internal sealed class Simulation
{
    /// <summary>How long after the last scheduled event the sync may take to end VALID (virtual time).</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromHours(3);

    /// <summary>A beacon node repeats its forkchoice every slot.</summary>
    private static readonly TimeSpan Slot = TimeSpan.FromSeconds(12);

    private const long MaxSteps = 3_000_000;

    private readonly int _seed;
    private readonly Random _random;
    private readonly SimRuntime _runtime;
    private readonly BlockTree _tree;
    private readonly string _directory;
    private readonly List<RemoteNode> _nodes = [];
    private readonly List<(Task<SyncRequestOutcome> Reply, BlockHeader Head, bool Forced)> _replies = [];
    private readonly List<BlockHeader> _announced = [];
    private readonly Queue<string> _notes = new();
    private readonly SortedSet<long> _crashAt = [];
    private readonly Invariants _invariants;

    private NodeProcess? _process;
    private int _processes;
    private bool _restartPending;
    private long _writes;
    private bool _skeletonWritten;
    private bool _chainWritten;
    private int _kills;
    private int _heads;
    private string? _failure;
    private bool _passed;
    private long _scheduleEnd;

    // The beacon node's view: its forced head (the last forkchoiceUpdated), the branch it is on, the finalized number.
    private BlockHeader? _forced;
    private int _branch;
    private ulong? _finalized;

    private Simulation(int seed)
    {
        _seed = seed;
        _random = new Random(seed);
        _runtime = new SimRuntime(_random, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _directory = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "es-sim", $"{seed}-{Guid.NewGuid():N}");
        // One seed in four syncs a longer chain, where subchains outgrow a header task and merges are decided.
        _tree = _random.NextDouble() < 0.25 ? BlockTree.Long : BlockTree.Short;
        _invariants = new Invariants(_tree);
    }

    /// <summary>Runs <paramref name="seed"/> to its end on the calling thread.</summary>
    public static SimResult Run(int seed)
    {
        var simulation = new Simulation(seed);
        try
        {
            return simulation.Run();
        }
        finally
        {
            simulation._process?.Dispose();
            try
            {
                Directory.Delete(simulation._directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private SimResult Run()
    {
        Directory.CreateDirectory(_directory);
        _runtime.AfterStep = AfterStep;
        _runtime.Install(() =>
        {
            Schedule();
            StartProcess();
            while (!_runtime.Stopping)
            {
                if (!_runtime.Step())
                {
                    Fail("the simulation went idle: nothing queued, no timer armed");
                }
            }
        });
        var failure = _failure ?? _runtime.Fault ?? (_passed ? null : "stopped without a verdict");
        if (failure is not null)
        {
            failure += $"\n  at virtual {TimeSpan.FromTicks(_runtime.Now)}, step {_runtime.Steps}, write {_writes}, kills {_kills}"
                + $"\n  replay: SIM_SEED={_seed} dotnet test tests/EngineSkeleton.Simulation.Tests"
                + "\n  last events:\n    " + string.Join("\n    ", _notes);
        }
        if (_process is { } p)
        {
            _runtime.Trace.Add(p.Chain.HeadHeader.Hash.ToArray());
        }
        _runtime.Trace.Add(_writes, _kills, _heads);
        return new SimResult(_seed, failure, _runtime.Trace.Value, _runtime.Steps, _writes, _kills, _heads, TimeSpan.FromTicks(_runtime.Now));
    }

    /// <summary>Draws the whole schedule from the seed: peers, their joins and leaves, heads, crash points.</summary>
    private void Schedule()
    {
        var t = 0L;
        long Later(double maxSeconds) => t += (long)(_random.NextDouble() * maxSeconds * TimeSpan.TicksPerSecond);

        // The first head: somewhere on the main chain.
        var branch = 0;
        ulong? finalized = null;
        var number = (ulong)_random.Next(1, (int)_tree.Tip(0));
        var first = _tree.At(0, number);

        var peers = _random.Next(1, 6);
        for (var i = 0; i < peers; i++)
        {
            var node = RemoteNode.Draw($"peer{i}", _random, 0, number, _tree.Branches.Count);
            if (!node.Follows)
            {
                node.Height = _tree.Tip(node.Branch);
            }
            _nodes.Add(node);
            node.Joined = _random.NextDouble() < 0.7;
        }
        var crashes = _random.NextDouble() < 0.6 ? _random.Next(1, 4) : 0;
        for (var i = 0; i < crashes; i++)
        {
            _crashAt.Add(_random.Next(1, 40));
        }

        ForcedHead(Later(2), branch, first, null);
        // Heads racing the cycles (every few hundred ms or seconds), or arriving over minutes.
        var spacing = _random.Next(3) switch
        {
            0 => 0.5,
            1 => 5.0,
            _ => 120.0,
        };
        var events = _random.Next(0, spacing < 10 ? 25 : 10);
        for (var i = 0; i < events; i++)
        {
            Later(spacing);
            var forced = _random.NextDouble() < 0.5;
            var kind = _random.Next(8);
            var tip = _tree.Tip(branch);
            var floor = (finalized ?? 0) + 1;
            switch (kind)
            {
                case 0 or 1 when number < tip:
                    number++; // the next block: newPayload, then (often) forkchoiceUpdated
                    Head(t, _tree.At(branch, number), forced: false, finalized);
                    if (forced)
                    {
                        ForcedHead(t + TimeSpan.TicksPerMillisecond * _random.Next(1, 2_000), branch, _tree.At(branch, number), finalized);
                    }
                    else
                    {
                        number--;
                    }
                    break;
                case 2 when number + 2 <= tip:
                    var gap = Math.Min(tip, number + (ulong)_random.Next(2, 300));
                    if (forced)
                    {
                        number = gap;
                        ForcedHead(t, branch, _tree.At(branch, number), finalized);
                    }
                    else
                    {
                        Head(t, _tree.At(branch, gap), forced: false, finalized);
                    }
                    break;
                case 3:
                    // Another branch that shares the finalized block (the beacon chain never reorgs below it).
                    var other = _random.Next(_tree.Branches.Count);
                    if (!_tree.Share(other, branch, floor - 1))
                    {
                        break;
                    }
                    var target = (ulong)_random.Next((int)floor, (int)_tree.Tip(other) + 1);
                    if (forced)
                    {
                        (branch, number) = (other, target);
                        ForcedHead(t, branch, _tree.At(branch, target), finalized);
                    }
                    else
                    {
                        Head(t, _tree.At(other, target), forced: false, finalized);
                    }
                    break;
                case 4 when number > floor:
                    var back = (ulong)_random.Next((int)floor, (int)number);
                    if (forced)
                    {
                        number = back;
                        ForcedHead(t, branch, _tree.At(branch, number), finalized);
                    }
                    else
                    {
                        Head(t, _tree.At(branch, back), forced: false, finalized);
                    }
                    break;
                case 5 when number > floor + 1:
                    finalized = (ulong)_random.Next((int)floor, (int)number);
                    ForcedHead(t, branch, _tree.At(branch, number), finalized);
                    break;
                case 6:
                    ForcedHead(t, branch, _tree.At(branch, number), finalized); // the same forkchoice again
                    break;
                default:
                    Head(t, _tree.At(branch, number), forced: false, finalized);
                    break;
            }
        }
        // The schedule ends on a forced head (the beacon node's forkchoice, repeated every slot from now on).
        Later(spacing);
        ForcedHead(t, branch, _tree.At(branch, number), finalized);

        // Peers come and go during the schedule.
        foreach (var node in _nodes)
        {
            var toggles = _random.Next(0, 3);
            for (var i = 0; i < toggles; i++)
            {
                var at = (long)(_random.NextDouble() * t);
                _runtime.At(at, _runtime.System, () => Toggle(node), $"{node.Id} joins or leaves");
            }
        }
        _scheduleEnd = t + (2 * TimeSpan.TicksPerSecond); // the forkchoiceUpdated after a newPayload may come 2 s late
        // After it, a well-behaved peer with the whole chain joins: every schedule can finish, so one that does not
        // is the sync's fault.
        _runtime.At(_scheduleEnd + TimeSpan.TicksPerSecond, _runtime.System, () =>
        {
            var rescue = RemoteNode.Rescue(_branch, _forced!.Number);
            rescue.Joined = true;
            _nodes.Add(rescue);
            _process?.Connect(rescue);
            Note("rescue peer joins");
        }, "rescue");
        _runtime.At(Slot.Ticks, _runtime.System, SlotTick, "slot");
    }

    private void ForcedHead(long at, int branch, BlockHeader head, ulong? finalized) =>
        _runtime.At(at, _runtime.System, () =>
        {
            (_forced, _branch, _finalized) = (head, branch, finalized);
            // Peers that follow the beacon node's head have it (a lagging one not all of it).
            foreach (var node in _nodes)
            {
                if (node.Follows)
                {
                    node.Branch = _branch;
                    node.Height = head.Number > node.Lag ? head.Number - node.Lag : 1;
                }
            }
            Hand(head, finalized, force: true);
        }, "forced head");

    private void Head(long at, BlockHeader head, bool forced, ulong? finalized) =>
        _runtime.At(at, _runtime.System, () => Hand(head, finalized, forced), "head");

    /// <summary>What the Engine API hands the sync: forkchoiceUpdated (forced) or newPayload (not) of a head it lacks.</summary>
    private void Hand(BlockHeader head, ulong? finalized, bool force)
    {
        if (_process is not { } process || process.Id.Dead)
        {
            Note($"head #{head.Number} {(force ? "forced" : "new")}: node down");
            return;
        }
        if (process.Chain.GetCanonicalHash(head.Number) == head.Hash && process.Chain.HasBlock(head.Hash))
        {
            Note($"head #{head.Number} {(force ? "forced" : "new")}: VALID already");
            return; // the Engine API answers VALID; the sync never sees it
        }
        _announced.Add(head);
        _heads++;
        Note($"head #{head.Number} {head.Hash.ToString()[..10]} {(force ? "forced" : "new")} finalized={finalized?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        _runtime.RunAs(process.Id, () => _replies.Add((process.Sync.SyncAsync(head, finalized, force), head, force)));
    }

    /// <summary>Every slot the beacon node repeats its forkchoice: after a restart this is how the new process hears it.</summary>
    private void SlotTick()
    {
        if (_forced is { } head)
        {
            Hand(head, _finalized, force: true);
        }
        _runtime.At(_runtime.Now + Slot.Ticks, _runtime.System, SlotTick, "slot");
    }

    private void Toggle(RemoteNode node)
    {
        node.Joined = !node.Joined;
        Note($"{node.Id} {(node.Joined ? "joins" : "leaves")}");
        if (_process is { } process && !process.Id.Dead)
        {
            if (node.Joined)
            {
                process.Connect(node);
            }
            else
            {
                process.Disconnect(node);
            }
        }
    }

    private void StartProcess()
    {
        _process?.Dispose();
        _restartPending = false;
        var process = new NodeProcess(++_processes, _directory, _tree, _runtime, _random, BeforeCommit, Note);
        _process = process;
        Note($"process {_processes} starts");
        // What the last process committed must already hold the invariants: this is where a crash point is judged.
        Check(process, "on restart", skeleton: true, chain: true);
        process.Start();
        foreach (var node in _nodes.Where(n => n.Joined))
        {
            process.Connect(node);
        }
        if (_forced is { } head)
        {
            Hand(head, _finalized, force: true);
        }
    }

    /// <summary>Inside every write transaction of the live process, before its commit: a crash point kills it here.</summary>
    private void BeforeCommit(bool skeleton)
    {
        var process = _process!;
        _runtime.CheckThread("a store write");
        if (process.Id.Dead)
        {
            throw new SimulatedKill("the process is dead");
        }
        _writes++;
        _skeletonWritten |= skeleton;
        _chainWritten |= !skeleton;
        if (_crashAt.Remove(_writes))
        {
            _kills++;
            Note($"kill before write {_writes} commits");
            process.Id.Kill();
            throw new SimulatedKill($"killed before write {_writes}");
        }
    }

    private void AfterStep()
    {
        if (_runtime.Stopping)
        {
            return;
        }
        if (_runtime.ForeignThread is { } foreign)
        {
            Fail(foreign);
            return;
        }
        if (_process is not { } process)
        {
            return;
        }
        if (process.Id.Dead)
        {
            if (!_restartPending)
            {
                _restartPending = true;
                _runtime.At(_runtime.Now + (TimeSpan.TicksPerSecond * _random.Next(1, 30)), _runtime.System, StartProcess, "restart");
            }
            return;
        }
        if (_skeletonWritten || _chainWritten)
        {
            Check(process, "after a write", _skeletonWritten, _chainWritten);
            _skeletonWritten = _chainWritten = false;
            if (_runtime.Stopping)
            {
                return;
            }
        }
        for (var i = _replies.Count - 1; i >= 0; i--)
        {
            var (reply, head, forced) = _replies[i];
            if (!reply.IsCompleted)
            {
                continue;
            }
            _replies.RemoveAt(i);
            var outcome = reply.Result;
            _runtime.Trace.Add((long)outcome, (long)head.Number, forced ? 1 : 0);
            if (forced && outcome != SyncRequestOutcome.Accepted)
            {
                Fail($"the forced head #{head.Number} {head.Hash} was refused: {outcome}");
                return;
            }
        }
        if (_runtime.Now >= _scheduleEnd && _forced is { } last
            && process.Chain.GetCanonicalHash(last.Number) == last.Hash && process.Chain.HasBlock(last.Hash))
        {
            Note($"VALID on the last forced head #{last.Number}");
            _passed = true;
            _runtime.Stopping = true;
            return;
        }
        if (_runtime.Now > _scheduleEnd + Grace.Ticks || _runtime.Steps > MaxSteps)
        {
            var subchains = process.Skeleton.LoadProgress()?.Subchains.Select(s => $"[{s.Head}..{s.Tail}]") ?? [];
            Fail($"the schedule did not end VALID on its last forced head #{_forced?.Number} within {Grace} of virtual time"
                + $" ({_runtime.Steps} steps): chain head #{process.Chain.HeadHeader.Number}, skeleton {string.Join(" ", subchains)},"
                + $" state {process.Sync.Snapshot.State}, health {process.Sync.Health.State}, peers "
                + string.Join(", ", process.Peers.Status().Select(p => $"{p.Id}{(p.Dropped ? " dropped: " + p.DropReason : p.Busy ? " busy" : " idle")}")));
        }
    }

    private void Check(NodeProcess process, string when, bool skeleton, bool chain)
    {
        if (_invariants.Check(process, _announced, skeleton, chain) is { } broken)
        {
            Fail($"invariant broken {when}: {broken}");
        }
    }

    private void Fail(string failure)
    {
        _failure ??= failure;
        _runtime.Stopping = true;
    }

    private void Note(string note)
    {
        if (_notes.Count == 40)
        {
            _notes.Dequeue();
        }
        _notes.Enqueue($"{TimeSpan.FromTicks(_runtime.Now):hh\\:mm\\:ss\\.fff} {note}");
    }
}

/// <summary>What a write throws at a crash point, and every write of a killed process after it.</summary>
internal sealed class SimulatedKill(string message) : Exception(message)
{
    public SimulatedKill()
        : this("killed")
    {
    }

    public SimulatedKill(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}
