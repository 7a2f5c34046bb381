using System.Diagnostics;
using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Benchmarks.Backfill;

/// <summary>
/// <c>backfill</c> mode, issue 5's benchmark (a macro benchmark like <c>skeleton</c>: one fill is one sample). A chain
/// of mainnet-sized blocks (<see cref="BodyProfile.Mainnet"/>: ~150 transactions of every type, blobs, 16
/// withdrawals, ~100 KB) is generated; its headers are written into a fresh on-disk <see cref="SkeletonStore"/> as
/// one subchain linked to the genesis, so only the backfill is timed: <see cref="Backfiller"/> fetches every body
/// from in-process peers, checks it against its header and the header against its parent, writes the blocks into a
/// fresh on-disk <see cref="ChainStore"/> and moves the canonical head, until the head is canonical.
/// <para>
/// Then, to say what dominates, the three parts of that work are timed alone on the first blocks of the chain (one
/// thread, no peers): building the bodies (what the in-process peer does per answer, a cost a network peer would
/// not put on this process), checking them (<see cref="BlockValidator.ValidateBody"/> and the header rules) and
/// writing them (<see cref="ChainStore.WriteBlocks"/> and <see cref="ChainStore.SetForkchoice"/> per batch).
/// </para>
/// Options: <c>--blocks N</c> (20,000), <c>--peers K</c> (1), <c>--seed S</c> (1), <c>--parts P</c> (blocks for the
/// parts, min(N, 5,000)), <c>--warmup W</c> (blocks of an unreported first fill; min(N, 2,000)), <c>--dir DIR</c>
/// (a temp directory, deleted unless <c>--keep</c>).
/// </summary>
internal static class BackfillCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var blocks = (ulong)CommandArgs.Long(args, "--blocks", 20_000);
        var peerCount = (int)CommandArgs.Long(args, "--peers", 1);
        var seed = (ulong)CommandArgs.Long(args, "--seed", 1);
        var parts = (ulong)CommandArgs.Long(args, "--parts", (long)Math.Min(blocks, 5_000UL));
        var warmBlocks = (ulong)CommandArgs.Long(args, "--warmup", (long)Math.Min(blocks, 2_000UL));
        var keep = args.Contains("--keep");
        var root = CommandArgs.String(args, "--dir") ?? Directory.CreateTempSubdirectory("es-bench-backfill-").FullName;
        Directory.CreateDirectory(root);

        Console.WriteLine(Inv($"backfill benchmark: {blocks:N0} blocks of BodyProfile.Mainnet, {peerCount} in-process peer(s), seed {seed}, stores under {root}"));
        Console.WriteLine(Inv($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}; load average {ProcessMeasure.LoadAverage()}"));
        try
        {
            var clock = Stopwatch.StartNew();
            var warm = GeneratedChain.Headers(warmBlocks + 1, seed + 1, bodies: BodyProfile.Mainnet);
            await FillAsync(warm, warmBlocks, peerCount, Path.Combine(root, "warmup"));
            Directory.Delete(Path.Combine(root, "warmup"), recursive: true);
            Console.WriteLine(Inv($"warm-up fill of {warmBlocks:N0} blocks done in {clock.Elapsed.TotalSeconds:F1} s"));

            clock.Restart();
            var chain = GeneratedChain.Headers(blocks + 1, seed, bodies: BodyProfile.Mainnet);
            Console.WriteLine(Inv($"chain generated in {clock.Elapsed.TotalSeconds:F1} s (every body built once, its roots computed); RSS now {ProcessMeasure.Rss("VmRSS") / 1_000_000:N0} MB"));
            var (transactions, bytes) = Sample(chain, Math.Min(blocks, 1_000UL));
            Console.WriteLine(Inv($"bodies (first {Math.Min(blocks, 1_000UL):N0} blocks): {transactions:F0} transactions and {bytes / 1000:F0} KB RLP a block on average"));

            var fill = await FillAsync(chain, blocks, peerCount, Path.Combine(root, "fill"));
            Console.WriteLine(Inv($"fill: {blocks:N0} blocks in {fill.Elapsed.TotalSeconds:F1} s = {blocks / fill.Elapsed.TotalSeconds:N0} blocks/s, ")
                + Inv($"{blocks * bytes / fill.Elapsed.TotalSeconds / 1_000_000:F1} MB/s of bodies, {blocks * transactions / fill.Elapsed.TotalSeconds:N0} transactions/s"));
            Console.WriteLine(Inv($"  peak RSS {fill.PeakRss / 1_000_000.0:F0} MB; CPU {fill.Cpu.TotalSeconds:F1} s = {fill.Cpu.TotalMicroseconds / blocks:F0} µs/block; {fill.Gc}; chain store {fill.StoreBytes / 1_000_000.0:F0} MB; load average {ProcessMeasure.LoadAverage()}"));
            Directory.Delete(Path.Combine(root, "fill"), recursive: true);

            PrintParts(chain, Math.Min(parts, blocks), Path.Combine(root, "parts"), fill.Elapsed.TotalMicroseconds / blocks, fill.Cpu.TotalMicroseconds / blocks);
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

    private sealed record FillResult(TimeSpan Elapsed, long PeakRss, TimeSpan Cpu, GcCost Gc, long StoreBytes);

    /// <summary>A fresh skeleton store holding every header as one linked subchain, then a timed fill to the head.</summary>
    private static async Task<FillResult> FillAsync(IReadOnlyList<BlockHeader> chain, ulong blocks, int peerCount, string dir)
    {
        Directory.CreateDirectory(dir);
        using var skeleton = SkeletonStore.OpenInDataDir(dir);
        var progress = new SkeletonProgress([new Subchain(blocks, 1, chain[0].Hash)], null);
        var batch = new List<BlockHeader>(512);
        for (var n = blocks; n >= 1; n--)
        {
            batch.Add(chain[(int)n]);
            if (batch.Count == 512 || n == 1)
            {
                skeleton.WriteBatch(batch, progress);
                batch.Clear();
            }
        }
        var bodies = GeneratedChain.Bodies(chain);
        using var store = ChainStore.Open(Path.Combine(dir, "chain.db"));
        store.Initialize(new Block(chain[0], bodies[0]!));
        var peers = new PeerSet(TimeProvider.System);
        for (var i = 0; i < peerCount; i++)
        {
            peers.Add(new InProcessPeer($"peer{i}", chain, bodies));
        }
        var filler = new Backfiller(store, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(chain)), TimeProvider.System, NullLogger<Backfiller>.Instance);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRun = head =>
        {
            if (head.Number == blocks)
            {
                done.TrySetResult();
            }
        };

        ProcessMeasure.ResetPeakRss();
        var gc = GcCost.Now();
        var cpu = ProcessMeasure.ProcessCpu();
        var started = Stopwatch.GetTimestamp();
        filler.Resume();
        await done.Task.WaitAsync(TimeSpan.FromHours(1));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var result = new FillResult(elapsed, ProcessMeasure.Rss("VmHWM"), ProcessMeasure.ProcessCpu() - cpu, GcCost.Now().Since(gc), 0);
        await filler.SuspendAsync(CancellationToken.None);
        if (store.HeadHeader.Hash != chain[(int)blocks].Hash)
        {
            throw new InvalidOperationException($"the fill ended at #{store.HeadHeader.Number}, not at the head #{blocks}");
        }
        store.Dispose();
        return result with { StoreBytes = new FileInfo(Path.Combine(dir, "chain.db")).Length };
    }

    /// <summary>The fill's work in three parts, each alone on one thread over the first <paramref name="blocks"/> blocks.</summary>
    private static void PrintParts(IReadOnlyList<BlockHeader> chain, ulong blocks, string dir, double fillMicrosPerBlock, double fillCpuPerBlock)
    {
        var bodies = GeneratedChain.Bodies(chain);
        var built = new Block[blocks];
        var cpu = ProcessMeasure.ProcessCpu();
        var started = Stopwatch.GetTimestamp();
        for (var n = 1UL; n <= blocks; n++)
        {
            built[n - 1] = new Block(chain[(int)n], bodies[(int)n]!);
        }
        var build = Stopwatch.GetElapsedTime(started).TotalMicroseconds / blocks;
        var buildCpu = (ProcessMeasure.ProcessCpu() - cpu).TotalMicroseconds / blocks;

        var validator = new BlockValidator(GeneratedChain.SpecFor(chain));
        cpu = ProcessMeasure.ProcessCpu();
        started = Stopwatch.GetTimestamp();
        var parent = chain[0];
        foreach (var block in built)
        {
            if (!validator.ValidateBody(block, allowOmmers: false).IsValid || !validator.ValidateWithCheckedBody(block, parent).IsValid)
            {
                throw new InvalidOperationException($"generated block #{block.Header.Number} is invalid");
            }
            parent = block.Header;
        }
        var check = Stopwatch.GetElapsedTime(started).TotalMicroseconds / blocks;
        var checkCpu = (ProcessMeasure.ProcessCpu() - cpu).TotalMicroseconds / blocks;

        Directory.CreateDirectory(dir);
        double write, writeCpu;
        using (var store = ChainStore.Open(Path.Combine(dir, "chain.db")))
        {
            store.Initialize(new Block(chain[0], bodies[0]!));
            cpu = ProcessMeasure.ProcessCpu();
            started = Stopwatch.GetTimestamp();
            for (var i = 0; i < built.Length; i += Backfiller.BatchSize)
            {
                var run = built.AsSpan(i, Math.Min(Backfiller.BatchSize, built.Length - i)).ToArray();
                store.WriteBlocks(run);
                store.SetForkchoice(run[^1].Header, null, null);
            }
            write = Stopwatch.GetElapsedTime(started).TotalMicroseconds / blocks;
            writeCpu = (ProcessMeasure.ProcessCpu() - cpu).TotalMicroseconds / blocks;
        }
        Directory.Delete(dir, recursive: true);
        Console.WriteLine(Inv($"parts, one thread, first {blocks:N0} blocks, µs/block wall and CPU (the fill: {fillMicrosPerBlock:F0} wall, {fillCpuPerBlock:F0} CPU):"));
        Console.WriteLine(Inv($"  build bodies (the in-process peer's work)      {build,8:F0} {buildCpu,8:F0}"));
        Console.WriteLine(Inv($"  check bodies and headers (roots, tx decoding)  {check,8:F0} {checkCpu,8:F0}"));
        Console.WriteLine(Inv($"  write to the chain store, 128-block batches    {write,8:F0} {writeCpu,8:F0}"));
    }

    /// <summary>Mean transactions and RLP bytes of a body over the first <paramref name="count"/> blocks.</summary>
    private static (double Transactions, double Bytes) Sample(IReadOnlyList<BlockHeader> chain, ulong count)
    {
        var bodies = GeneratedChain.Bodies(chain);
        double transactions = 0, bytes = 0;
        for (var n = 1; n <= (int)count; n++)
        {
            var body = bodies[n]!;
            transactions += body.Transactions.Count;
            bytes += body.Encode().Length;
        }
        return (transactions / count, bytes / count);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
