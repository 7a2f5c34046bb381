using System.Collections;
using System.Diagnostics;
using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Testing.Chains;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// docs/quality.md, reliability: kill -9 at random points of a sync, restart, finish — no lost or duplicated work beyond
/// what was in flight, identical chain. The sync runs in its own process (tests/EngineSkeleton.SyncHost, which
/// prints what it requested and what it committed); the test kills it with SIGKILL at seeded random moments and
/// restarts it on the same datadir, checking the store after every kill.
/// </summary>
/// <remarks>
/// Size and seed come from the environment: <c>SKELETON_CRASH_HEADERS</c> (default 200,000) and
/// <c>SKELETON_CRASH_SEED</c> (default: a fresh one, printed, so a failure can be replayed). The seed fixes the
/// chain and the kill plan; the exact instant of each kill still depends on the scheduler, which is the point.
/// </remarks>
public sealed class SkeletonCrashTests(ITestOutputHelper output)
{
    private const int Kills = 10;
    private const ulong DefaultHeaders = 200_000;
    private const ulong SmallestHeaders = 100_000;
    private const int Peers = 4;

    /// <summary>
    /// The skeleton's scratch window (HeaderTasks.ScratchHeaders, geth's scratchHeaders): the most headers the loop
    /// holds requested-or-downloaded but not yet written. Peers × 512 bounds only the requests open at one instant;
    /// answers for tasks above the tail's task wait in the window, legitimately, until the tail's batch arrives, so
    /// a kill can lose up to a window of downloaded headers, never more.
    /// </summary>
    private const int ScratchHeaders = 131_072;

    /// <summary>Every wait on the host is bounded; generous, as the two cores are shared with other builds.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    /// <summary>
    /// How a run ends: killed some milliseconds after it opened the store, or some milliseconds after its tail went
    /// <see cref="Advance"/> headers below where the run started (but not below <see cref="Lowest"/>).
    /// </summary>
    private sealed record KillPoint(int? AfterStartMs, ulong Advance, ulong Lowest, int JitterMs)
    {
        public ulong TargetFrom(ulong storedTail) => storedTail > Lowest + Advance ? storedTail - Advance : Lowest;

        public string Describe(ulong storedTail) =>
            AfterStartMs is { } ms ? $"{ms} ms after start" : $"tail <= {TargetFrom(storedTail)} + {JitterMs} ms";
    }

    [Fact]
    public async Task A_sync_killed_ten_times_at_random_moments_resumes_from_what_it_committed_and_ends_with_exactly_the_source_chain()
    {
        var headers = SyncHostProcess.SizeFromEnvironment("SKELETON_CRASH_HEADERS", DefaultHeaders, SmallestHeaders);
        var seed = SyncHostProcess.SeedFromEnvironment("SKELETON_CRASH_SEED");
        output.WriteLine($"SKELETON_CRASH_SEED={seed} SKELETON_CRASH_HEADERS={headers}");
        var rng = new Random(seed);
        var chainSeed = (ulong)rng.NextInt64();
        var chain = GeneratedChain.Headers(headers + 1, chainSeed);
        var plan = KillPlan(rng, headers);
        var dataDir = Directory.CreateTempSubdirectory("es-skel-crash-").FullName;
        var clock = Stopwatch.StartNew();
        try
        {
            // Numbers requested by any earlier run, and the stored tail after the last kill (head + 1: nothing yet).
            var requestedBefore = new BitArray((int)headers + 1);
            var storedTail = headers + 1;
            long totalRequested = 0;
            ulong mostInFlight = 0;
            for (var run = 0; run <= Kills; run++)
            {
                var kill = run < Kills ? plan[run] : null;
                var killAt = kill?.Describe(Math.Min(storedTail, headers)) ?? "";
                await using var host = SyncHostProcess.Start(dataDir, headers, chainSeed, Peers);
                await host.WaitForLineAsync(l => l.StartsWith("start ", StringComparison.Ordinal), Bound);
                if (kill is not null)
                {
                    // The delays place the kill, they synchronize nothing: where it lands is meant to vary.
                    if (kill.AfterStartMs is { } ms)
                    {
                        await Task.Delay(ms);
                    }
                    else
                    {
                        var target = kill.TargetFrom(Math.Min(storedTail, headers));
                        await host.WaitForLineAsync(l => SyncHostProcess.Field(l, "progress", "tail") <= target, Bound);
                        await Task.Delay(kill.JitterMs);
                    }
                    SyncHostProcess.KillNow(host);
                }
                var exit = await host.WaitForExitAsync(Bound);
                var lines = host.StandardOutputLines();

                // Only what this process asked for counts as its downloads; requests are printed before they are served.
                var requests = lines.Select(l => (Origin: SyncHostProcess.Field(l, "request", "origin"), Count: SyncHostProcess.Field(l, "request", "count")))
                    .Where(r => r.Origin is not null)
                    .Select(r => (Origin: r.Origin!.Value, Count: r.Count!.Value))
                    .ToList();
                ulong refetchedCommitted = 0, redownloaded = 0, requested = 0;
                foreach (var (origin, count) in requests)
                {
                    for (var n = origin; n > origin - count; n--)
                    {
                        requested++;
                        refetchedCommitted += n >= storedTail ? 1UL : 0;
                        redownloaded += requestedBefore[(int)n] ? 1UL : 0;
                    }
                }
                var lostAtLastKill = run == 0 ? 0 : CountBelow(requestedBefore, storedTail);
                Assert.True(refetchedCommitted == 0, $"run {run} asked again for {refetchedCommitted} headers at or above the stored tail #{storedTail}: committed work was lost\n{host.Diagnostics()}");
                Assert.True(redownloaded <= lostAtLastKill, $"run {run} downloaded {redownloaded} headers again, but only {lostAtLastKill} were in flight at the kill");
                foreach (var (origin, count) in requests)
                {
                    for (var n = origin; n > origin - count; n--)
                    {
                        requestedBefore[(int)n] = true;
                    }
                }
                totalRequested += (long)requested;

                if (kill is null)
                {
                    Assert.True(exit == 0, $"the last run must finish linked\n{host.Diagnostics()}");
                    Assert.Contains(lines, l => l.StartsWith($"linked tail=1 head={headers} ", StringComparison.Ordinal));
                    output.WriteLine($"run {run}: finished linked, requested {requested} (again after the kill: {redownloaded}), {clock.Elapsed.TotalSeconds:F1} s in");
                    break;
                }

                // 137 = 128 + SIGKILL: the host died by our kill, not by itself and not by finishing first.
                Assert.True(exit != 0, $"run {run}: the host finished before the kill at {killAt} landed (this test process was starved); rerun, or give a larger SKELETON_CRASH_HEADERS\n{host.Diagnostics()}");
                Assert.True(exit == 137, $"run {run}: expected death by SIGKILL at {killAt}, exit {exit}\n{host.Diagnostics()}");
                var printedTail = lines.Select(l => SyncHostProcess.Field(l, "progress", "tail")).LastOrDefault(t => t is not null);
                var stored = InspectCopy(dataDir, chain, headers);
                var storedText = stored?.ToString() ?? "none";
                if (printedTail is not null)
                {
                    // A printed tail was committed: the store may be ahead of it (a batch written after the print), never behind.
                    Assert.True(stored is { Subchains: [var s, ..] } && s.Head == headers && s.Tail <= printedTail, $"run {run} printed tail {printedTail} before the kill, the store has {storedText}");
                }
                storedTail = stored is { Subchains: [var newest, ..] } ? newest.Tail : headers + 1;
                var inFlight = CountBelow(requestedBefore, storedTail);
                mostInFlight = Math.Max(mostInFlight, inFlight);
                Assert.True(inFlight <= ScratchHeaders, $"run {run}: {inFlight} requested headers were not written at the kill, more than the {ScratchHeaders}-header window");
                output.WriteLine($"run {run}: killed at {killAt}; printed tail {printedTail?.ToString(CultureInfo.InvariantCulture) ?? "-"}, stored {storedText}; "
                    + $"requested {requested}, again after the previous kill {redownloaded} (in flight then {lostAtLastKill}), in flight now {inFlight}; {clock.Elapsed.TotalSeconds:F1} s in");
            }

            using var store = SkeletonStore.OpenInDataDir(dataDir);
            Assert.Equal(new SkeletonProgress([new Subchain(headers, 1, chain[0].Hash)], null), store.LoadProgress());
            AssertStoredMatches(store, chain, 1, headers);
            output.WriteLine($"{headers} headers synced through {Kills} kills: {totalRequested} requested in all ({totalRequested - (long)(headers - 1)} more than once); "
                + $"at most {mostInFlight} requested and unwritten at a kill (peers x 512 = {Peers * 512}, window {ScratchHeaders}); {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>
    /// Two kills at startup (store open, first forced head, first batches) and eight a random distance (1/100 to 1/12
    /// of the chain) below where their run started, none in the older half of the chain, in a random order; after each of those a few milliseconds of
    /// jitter so the kill lands anywhere in the loop, including inside a LiteDB commit or checkpoint.
    /// </summary>
    private static KillPoint[] KillPlan(Random rng, ulong headers)
    {
        // Far from the genesis: a run syncs up to ~250,000 headers/s here, and the test sees a line late when the
        // host's cores are busy (once 50,000 headers passed between the line and the kill), so the last half of
        // the chain is left to the last run; at the default size that is 100,000 headers, ~0.4 s, of margin.
        var lowest = Math.Max(headers / 2, 50_000UL);
        var early = new HashSet<int>();
        while (early.Count < 2)
        {
            early.Add(rng.Next(Kills));
        }
        var plan = new KillPoint[Kills];
        for (var i = 0; i < Kills; i++)
        {
            plan[i] = early.Contains(i)
                ? new KillPoint(rng.Next(0, 100), 0, lowest, 0)
                : new KillPoint(null, (ulong)rng.NextInt64((long)(headers / 100), (long)(headers / 12)), lowest, rng.Next(0, 20));
        }
        return plan;
    }

    /// <summary>
    /// Opens a copy of the killed host's store (so the next host, not this test, recovers the original from
    /// LiteDB's log) and checks its newest subchain holds exactly the source chain. Returns its progress.
    /// </summary>
    private static SkeletonProgress? InspectCopy(string dataDir, IReadOnlyList<BlockHeader> chain, ulong headers)
    {
        var copy = Directory.CreateTempSubdirectory("es-skel-inspect-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(dataDir).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
            using var store = SkeletonStore.OpenInDataDir(copy);
            var progress = store.LoadProgress();
            if (progress is { Subchains: [var newest, ..] })
            {
                Assert.True(progress.Subchains.Count == 1, $"one head was ever given, yet the store has {progress}");
                Assert.True(newest.Head == headers, $"stored head {newest.Head}, forced head {headers}");
                Assert.Equal(chain[(int)newest.Tail].ParentHash, newest.Next);
                AssertStoredMatches(store, chain, newest.Tail, newest.Head);
            }
            return progress;
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary>Every stored header from..to hashes to what the source chain has there (the child's parent hash, which is free).</summary>
    private static void AssertStoredMatches(SkeletonStore store, IReadOnlyList<BlockHeader> chain, ulong from, ulong to)
    {
        for (var n = from; n <= to; n++)
        {
            var want = n + 1 < (ulong)chain.Count ? chain[(int)n + 1].ParentHash : chain[(int)n].Hash;
            var have = store.GetHeader(n);
            if (have is null || have.Hash != want)
            {
                Assert.Fail($"stored header #{n} is {(have is null ? "missing" : have.Hash.ToString())}, the source chain has {want}");
            }
        }
    }

    private static ulong CountBelow(BitArray requested, ulong tail)
    {
        ulong count = 0;
        for (var n = 1; (ulong)n < tail && n < requested.Length; n++)
        {
            count += requested[n] ? 1UL : 0;
        }
        return count;
    }
}
