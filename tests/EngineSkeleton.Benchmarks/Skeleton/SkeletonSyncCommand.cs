using System.Diagnostics;
using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;
using static EngineSkeleton.Benchmarks.Skeleton.SkeletonOnly;

namespace EngineSkeleton.Benchmarks.Skeleton;

/// <summary>
/// <c>skeleton</c> mode, docs/quality.md header-sync bar as a macro benchmark (not BenchmarkDotNet: one sync is one
/// sample, minutes long). In one process:
/// <list type="number">
/// <item>sync: <see cref="SkeletonSync"/> downloads N headers from in-process peers serving a generated chain into a
/// fresh on-disk <see cref="SkeletonStore"/>, every header hash-checked, until linked to the genesis; the tail after
/// every committed batch is recorded, which gives the sizes of the sync's WriteBatch calls;</item>
/// <item>raw: the same header records written by the same <see cref="SkeletonStore.WriteBatch"/> calls — same batch
/// boundaries, same progress documents — into another fresh store, without the engine, only the calls timed.</item>
/// </list>
/// Reports both rates and their ratio (bar ≥ 0.8), peak RSS after each phase (VmHWM, reset between phases; bar
/// ≤ 400 MB for 1,000,000 headers), store size on disk, and the rate per tenth of the chain to show degradation.
/// Options: <c>--headers N</c> (1,000,000), <c>--peers K</c> (4), <c>--seed S</c> (1), <c>--rounds R</c> (1; rounds
/// alternate sync and raw, and the medians are reported), <c>--warmup W</c> (headers of an unreported first round;
/// min(N, 300,000)), <c>--dir DIR</c> (a temp directory, deleted unless
/// <c>--keep</c>; each round's stores are deleted after it), <c>--raw-first</c> (raw before sync, to see order effects).
/// </summary>
internal static class SkeletonSyncCommand
{
    private const int Tenths = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var headers = (ulong)CommandArgs.Long(args, "--headers", 1_000_000);
        var peerCount = (int)CommandArgs.Long(args, "--peers", 4);
        var seed = (ulong)CommandArgs.Long(args, "--seed", 1);
        var keep = args.Contains("--keep");
        var root = CommandArgs.String(args, "--dir") ?? Directory.CreateTempSubdirectory("es-bench-skeleton-").FullName;
        Directory.CreateDirectory(root);

        Console.WriteLine(Inv($"skeleton sync benchmark: {headers:N0} headers, {peerCount} in-process peers, seed {seed}, stores under {root}"));
        Console.WriteLine(Inv($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}"));
        var clock = Stopwatch.StartNew();
        var chain = GeneratedChain.Headers(headers + 1, seed);
        Console.WriteLine(Inv($"chain generated in {clock.Elapsed.TotalSeconds:F1} s (its parent-hash table: {headers * (ulong)Hash256.Size / 1_000_000:N0} MB of the RSS below); RSS now {ProcessMeasure.Rss("VmRSS") / 1_000_000:N0} MB"));

        try
        {
            // Rounds alternate the phases: on a shared machine the background load drifts, and drift must hit both.
            var rounds = (int)CommandArgs.Long(args, "--rounds", 1);
            // A warm-up round first, not reported: both phases then run tier-1 JIT code, as a long-running node does
            // (unwarmed, the first phase measured paid for compiling LiteDB and took twice as long; after 50,000
            // headers of warm-up the first round was still 1.5-2x slower than the next ones).
            var warmHeaders = (ulong)CommandArgs.Long(args, "--warmup", (long)Math.Min(headers, 300_000UL));
            var warmChain = GeneratedChain.Headers(warmHeaders + 1, seed + 1);
            var warm = await RunSyncAsync(warmChain, warmHeaders, peerCount, Path.Combine(root, "warmup", "sync"));
            RunRaw(warmChain, warmHeaders, Path.Combine(root, "warmup", "raw"), warm.Tails);
            Directory.Delete(Path.Combine(root, "warmup"), recursive: true);
            Console.WriteLine(Inv($"warm-up round of {warmHeaders:N0} headers done; load average {ProcessMeasure.LoadAverage()}"));
            var ratios = new List<double>();
            var syncRates = new List<double>();
            var rawRates = new List<double>();
            long peakSync = 0;
            for (var round = 1; round <= rounds; round++)
            {
                var dir = Path.Combine(root, Inv($"round{round}"));
                PhaseResult sync, raw;
                if (args.Contains("--raw-first"))
                {
                    // The raw phase needs the sync's batch sizes; without them it writes 512-header batches.
                    raw = RunRaw(chain, headers, Path.Combine(dir, "raw"), null);
                    sync = await RunSyncAsync(chain, headers, peerCount, Path.Combine(dir, "sync"));
                }
                else
                {
                    sync = await RunSyncAsync(chain, headers, peerCount, Path.Combine(dir, "sync"));
                    raw = RunRaw(chain, headers, Path.Combine(dir, "raw"), sync.Tails);
                }
                Console.WriteLine(Inv($"round {round} of {rounds}:"));
                Print("  sync (engine, peers, hash checks, store)", sync);
                Print("  raw  (same WriteBatch calls alone)     ", raw);
                Console.WriteLine(Inv($"  ratio {sync.Rate / raw.Rate:F2}; load average {ProcessMeasure.LoadAverage()}"));
                ratios.Add(sync.Rate / raw.Rate);
                syncRates.Add(sync.Rate);
                rawRates.Add(raw.Rate);
                peakSync = Math.Max(peakSync, sync.PeakRss);
                Directory.Delete(dir, recursive: true);
            }
            Console.WriteLine(Inv($"sync {Median(syncRates):N0} headers/s, raw {Median(rawRates):N0} headers/s (medians of {rounds})"));
            Console.WriteLine(Inv($"ratio: {Median(ratios):F2} of the raw write rate, median of rounds [{string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}] (docs/quality.md bar: >= 0.80)"));
            Console.WriteLine(Inv($"peak RSS during sync: {peakSync / 1_000_000.0:F0} MB, highest of the rounds (docs/quality.md bar for 1,000,000 headers: <= 400 MB)"));
            return 0;
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private sealed record PhaseResult(ulong Headers, TimeSpan Elapsed, double[] TenthRates, long PeakRss, long StoreBytes, List<ulong> Tails, GcCost Gc, TimeSpan Cpu)
    {
        public double Rate => Headers / Elapsed.TotalSeconds;
    }

    private static async Task<PhaseResult> RunSyncAsync(IReadOnlyList<BlockHeader> chain, ulong headers, int peerCount, string dir)
    {
        ProcessMeasure.ResetPeakRss();
        var gc = GcCost.Now();
        var cpu = ProcessMeasure.ProcessCpu();
        var tails = new List<ulong>();
        var tailTimes = new List<long>();
        var linked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long started, peak;
        TimeSpan elapsed;
        using (var store = SkeletonStore.OpenInDataDir(dir))
        {
            var sync = new SkeletonSync(store, new PeerSet(TimeProvider.System), new NoBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
            try
            {
                // Called by the loop after each publish; a new tail means a committed batch (or, first, the head alone).
                sync.AfterEvent = snapshot =>
                {
                    if (snapshot.Progress is { Subchains: [var newest, ..] } && (tails.Count == 0 || tails[^1] != newest.Tail))
                    {
                        tails.Add(newest.Tail);
                        tailTimes.Add(Stopwatch.GetTimestamp());
                    }
                    if (snapshot.Linked)
                    {
                        linked.TrySetResult();
                    }
                };
                for (var i = 0; i < peerCount; i++)
                {
                    sync.AddPeer(new InProcessPeer($"peer{i}", chain));
                }
                started = Stopwatch.GetTimestamp();
                sync.Start();
                if (await sync.SyncAsync(chain[(int)headers], null, force: true) != SyncRequestOutcome.Accepted)
                {
                    throw new InvalidOperationException("the forced head was refused");
                }
                await linked.Task;
                elapsed = Stopwatch.GetElapsedTime(started);
                peak = ProcessMeasure.Rss("VmHWM");
                gc = GcCost.Now().Since(gc);
                cpu = ProcessMeasure.ProcessCpu() - cpu;
            }
            finally
            {
                await sync.DisposeAsync();
            }
        }
        return new PhaseResult(headers, elapsed, TenthRates(headers, started, tails, tailTimes), peak, StoreBytes(dir), tails, gc, cpu);
    }

    /// <summary>
    /// The sync's writes without the sync: for each committed tail the headers from the previous tail − 1 down to it,
    /// with the progress {head, tail, parent of tail}; the first call writes the head alone, as the sync's first
    /// cycle does. Headers are built and hashed (so they carry their RLP, as the sync's do) before each call's clock
    /// starts.
    /// </summary>
    private static PhaseResult RunRaw(IReadOnlyList<BlockHeader> chain, ulong headers, string dir, List<ulong>? syncTails)
    {
        ProcessMeasure.ResetPeakRss();
        var tails = syncTails ?? DefaultTails(headers);
        var gc = GcCost.Now();
        var cpu = TimeSpan.Zero;
        var store = SkeletonStore.OpenInDataDir(dir);
        var tailTimes = new List<long>(tails.Count);
        var writing = 0L;
        var previous = headers + 1;
        var batch = new List<BlockHeader>();
        foreach (var tail in tails)
        {
            batch.Clear();
            for (var n = previous - 1; n >= tail; n--)
            {
                // As the sync's headers reach the store: hashed, carrying the RLP they were hashed from, so the
                // store writes the same bytes without encoding them in either phase.
                var header = chain[(int)n];
                _ = header.Hash;
                batch.Add(header);
            }
            var progress = new SkeletonProgress([new Subchain(headers, tail, chain[(int)tail].ParentHash)], null);
            var cpuBefore = ProcessMeasure.ProcessCpu();
            var before = Stopwatch.GetTimestamp();
            store.WriteBatch(batch, progress);
            writing += Stopwatch.GetTimestamp() - before;
            cpu += ProcessMeasure.ProcessCpu() - cpuBefore;
            tailTimes.Add(writing);
            previous = tail;
        }
        var peak = ProcessMeasure.Rss("VmHWM");
        gc = GcCost.Now().Since(gc);
        store.Dispose();
        return new PhaseResult(headers, Stopwatch.GetElapsedTime(0, writing), TenthRates(headers, 0, tails, tailTimes), peak, StoreBytes(dir), tails, gc, cpu);
    }

    private static List<ulong> DefaultTails(ulong headers)
    {
        var tails = new List<ulong> { headers };
        for (var tail = headers; tail > 1;)
        {
            tail = tail > 512 ? tail - 512 : 1;
            tails.Add(tail);
        }
        return tails;
    }

    /// <summary>Headers per second over each tenth of the chain (from the head down), from the times the tail passed.</summary>
    private static double[] TenthRates(ulong headers, long started, List<ulong> tails, List<long> times)
    {
        var rates = new double[Tenths];
        var from = started;
        var fromTail = headers + 1;
        var tenth = 0;
        for (var i = 0; i < tails.Count && tenth < Tenths; i++)
        {
            var boundary = headers + 1 - ((headers * (ulong)(tenth + 1)) / Tenths);
            if (tails[i] <= boundary || i == tails.Count - 1)
            {
                rates[tenth++] = (fromTail - tails[i]) / Stopwatch.GetElapsedTime(from, times[i]).TotalSeconds;
                from = times[i];
                fromTail = tails[i];
            }
        }
        return rates;
    }

    private static void Print(string name, PhaseResult result) =>
        Console.WriteLine(Inv($"{name}: {result.Headers:N0} headers in {result.Elapsed.TotalSeconds:F1} s = {result.Rate:N0} headers/s; ")
            + Inv($"{result.Tails.Count - 1:N0} batches; peak RSS {result.PeakRss / 1_000_000.0:F0} MB; store {result.StoreBytes / 1_000_000.0:F0} MB ({result.StoreBytes / (double)result.Headers:F0} B/header); ")
            + Inv($"CPU {result.Cpu.TotalSeconds:F1} s = {result.Cpu.TotalMicroseconds / result.Headers:F1} µs/header; {result.Gc}\n")
            + "    headers/s per tenth, head to genesis: " + string.Join(" ", result.TenthRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture))));

    private static long StoreBytes(string dir) =>
        Directory.EnumerateFiles(dir).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
}
