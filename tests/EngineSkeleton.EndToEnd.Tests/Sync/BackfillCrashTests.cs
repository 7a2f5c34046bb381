using System.Diagnostics;
using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Testing.Chains;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// Issue 5, kill -9 during backfill: the sync host (tests/EngineSkeleton.SyncHost <c>--backfill</c>) syncs headers
/// and then fills bodies of blocks with transactions, blobs and withdrawals into its chain store; the test kills it
/// with SIGKILL at seeded random moments of the backfill and restarts it on the same datadir. Blocks filled before a
/// kill are never asked for again; only what was asked and not yet written at the kill may be; the last run ends
/// with exactly the source chain canonical and the skeleton emptied of consumed headers. The host announces a
/// finalized block a quarter up, so the first run writes frozen runs (the files, then LiteDB's count) and the kills land
/// in them or in LiteDB's; the frozen writes, several times faster, are kept to the first run so the later kills can land.
/// </summary>
/// <remarks>
/// Size and seed from the environment: <c>BACKFILL_CRASH_BLOCKS</c> (default 20,000; 10,000 when <c>CI=true</c>; at
/// least 10,000) and
/// <c>BACKFILL_CRASH_SEED</c> (default a fresh one, printed). The seed fixes the chain and the kill plan; where each
/// kill lands still depends on the scheduler, which is the point.
/// </remarks>
public sealed class BackfillCrashTests(ITestOutputHelper output)
{
    private const int Kills = 4;
    private const ulong DefaultBlocks = 20_000;
    private const ulong CiBlocks = 10_000;
    private const ulong SmallestBlocks = 10_000;
    private const int Peers = 2;

    /// <summary>Every wait on the host is bounded; generous, as the two cores are shared with other builds.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task A_backfill_killed_at_random_moments_never_refetches_filled_blocks_and_ends_with_exactly_the_source_chain()
    {
        var blocks = SyncHostProcess.SizeFromEnvironment("BACKFILL_CRASH_BLOCKS", Environment.GetEnvironmentVariable("CI") == "true" ? CiBlocks : DefaultBlocks, SmallestBlocks);
        var seed = SyncHostProcess.SeedFromEnvironment("BACKFILL_CRASH_SEED");
        output.WriteLine($"BACKFILL_CRASH_SEED={seed} BACKFILL_CRASH_BLOCKS={blocks}");
        var rng = new Random(seed);
        var chainSeed = (ulong)rng.NextInt64();
        var chain = GeneratedChain.Headers(blocks + 1, chainSeed, bodies: BodyProfile.Mixed);
        var dataDir = Directory.CreateTempSubdirectory("es-backfill-crash-").FullName;
        var clock = Stopwatch.StartNew();
        try
        {
            // How often each block's body was asked for, over all runs; the stored head after the last kill.
            var asked = new int[blocks + 1];
            ulong storedHead = 0;
            var mostInFlight = 0;
            for (var run = 0; run <= Kills; run++)
            {
                var killing = run < Kills;
                // Each kill lands a random distance (1/20 to 1/6 of the chain) above the head the run starts from,
                // and never in the last quarter, which is left to the last run.
                var target = Math.Min(storedHead + (ulong)rng.NextInt64((long)blocks / 20, (long)blocks / 6), blocks * 3 / 4);
                var jitterMs = rng.Next(0, 20);
                await using var host = SyncHostProcess.Start(dataDir, blocks, chainSeed, Peers, "--backfill");
                await host.WaitForLineAsync(l => l.StartsWith("start ", StringComparison.Ordinal), Bound);
                if (killing)
                {
                    await host.WaitForLineAsync(l => SyncHostProcess.Field(l, "filled", "head") >= target, Bound);
                    await Task.Delay(jitterMs); // places the kill, synchronizes nothing: where it lands is meant to vary
                    SyncHostProcess.KillNow(host);
                }
                var exit = await host.WaitForExitAsync(Bound);
                var lines = host.StandardOutputLines();

                // Requests are printed before they are served, so every body this run received is counted.
                var requested = lines.Where(l => l.StartsWith("bodies ", StringComparison.Ordinal)).SelectMany(Numbers).ToList();
                var inFlightBefore = InFlight(asked, storedHead);
                var refetchedFilled = requested.Count(n => n <= storedHead);
                var again = requested.Count(n => asked[n] > 0);
                Assert.True(refetchedFilled == 0, $"run {run} asked again for {refetchedFilled} bodies at or below the stored head #{storedHead}\n{host.Diagnostics()}");
                Assert.True(again <= inFlightBefore, $"run {run} asked again for {again} bodies, but only {inFlightBefore} were asked and unwritten at the kill");
                foreach (var n in requested)
                {
                    asked[n]++;
                }

                if (!killing)
                {
                    Assert.True(exit == 0, $"the last run must end canonical\n{host.Diagnostics()}");
                    Assert.Contains($"canonical head={blocks} skeleton=1", lines);
                    output.WriteLine($"run {run}: finished, asked for {requested.Count} bodies (again after the kill: {again} of {inFlightBefore} in flight), {clock.Elapsed.TotalSeconds:F1} s in");
                    break;
                }
                Assert.True(exit != 0, $"run {run}: the host finished before the kill at head >= {target} landed (this test process was starved); rerun, or give a larger BACKFILL_CRASH_BLOCKS\n{host.Diagnostics()}");
                Assert.True(exit == 137, $"run {run}: expected death by SIGKILL, exit {exit}\n{host.Diagnostics()}");
                var printed = lines.Select(l => SyncHostProcess.Field(l, "filled", "head")).LastOrDefault(h => h is not null);
                var stored = InspectCopy(dataDir, chain);
                Assert.True(printed is null || stored >= printed, $"run {run} printed filled head {printed}, the chain store has #{stored}");
                Assert.True(stored >= storedHead, $"run {run}: the stored head went back from #{storedHead} to #{stored}");
                storedHead = stored;
                var inFlight = InFlight(asked, storedHead);
                mostInFlight = Math.Max(mostInFlight, inFlight);
                output.WriteLine($"run {run}: killed at filled head >= {target} + {jitterMs} ms; printed {printed?.ToString(CultureInfo.InvariantCulture) ?? "-"}, stored #{stored}; "
                    + $"asked for {requested.Count} bodies (again after the previous kill {again} of {inFlightBefore}), asked and unwritten now {inFlight}; {clock.Elapsed.TotalSeconds:F1} s in");
            }

            using (var store = ChainStore.Open(Path.Combine(dataDir, "chain.db")))
            {
                store.Initialize(new Block(chain[0], GeneratedChain.EmptyBody));
                Assert.Equal(chain[(int)blocks].Hash, store.HeadHeader.Hash);
                Assert.Equal(blocks / 4, store.FrozenThrough); // the host's finalized number: frozen below, LiteDB above
                AssertCanonical(store, chain, blocks);
            }
            using (var skeleton = SkeletonStore.OpenInDataDir(dataDir))
            {
                Assert.Equal(new SkeletonProgress([new Subchain(blocks, blocks, chain[(int)blocks].ParentHash)], blocks / 4), skeleton.LoadProgress());
            }
            var total = asked.Sum();
            output.WriteLine($"{blocks} blocks filled through {Kills} kills: {total} bodies asked for in all ({total - (long)blocks} more than once), at most {mostInFlight} asked and unwritten at a kill; {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>
    /// Opens a copy of the killed host's chain store (the next host, not this test, recovers the original from
    /// LiteDB's log), checks its canonical chain is the source chain's up to its head, and returns that head.
    /// </summary>
    private static ulong InspectCopy(string dataDir, IReadOnlyList<BlockHeader> chain)
    {
        var copy = Directory.CreateTempSubdirectory("es-backfill-inspect-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(dataDir, "chain*")) // chain.db, its log, the frozen files
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
            using var store = ChainStore.Open(Path.Combine(copy, "chain.db"));
            store.Initialize(new Block(chain[0], GeneratedChain.EmptyBody));
            var head = store.HeadHeader.Number;
            AssertCanonical(store, chain, head);
            return head;
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary>Canonical hashes 0..head are the source chain's (each from the child's parent hash, which is free).</summary>
    private static void AssertCanonical(ChainStore store, IReadOnlyList<BlockHeader> chain, ulong head)
    {
        for (var n = 0UL; n <= head; n++)
        {
            var want = n + 1 < (ulong)chain.Count ? chain[(int)n + 1].ParentHash : chain[(int)n].Hash;
            if (store.GetCanonicalHash(n) != want)
            {
                Assert.Fail($"canonical #{n} is {store.GetCanonicalHash(n)}, the source chain has {want}");
            }
        }
    }

    /// <summary>Bodies asked for by some run and not written by the last kill: above the stored head.</summary>
    private static int InFlight(int[] asked, ulong storedHead)
    {
        var count = 0;
        for (var n = storedHead + 1; n < (ulong)asked.Length; n++)
        {
            count += asked[n] > 0 ? 1 : 0;
        }
        return count;
    }

    /// <summary>The numbers of a <c>bodies ... numbers=A-B,C-D</c> line.</summary>
    private static IEnumerable<ulong> Numbers(string line)
    {
        var list = line.Split(' ').Single(p => p.StartsWith("numbers=", StringComparison.Ordinal))["numbers=".Length..];
        foreach (var range in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.NotEqual("?", range); // a hash the source chain does not have
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            var from = ulong.Parse(range.AsSpan(0, dash), CultureInfo.InvariantCulture);
            var to = ulong.Parse(range.AsSpan(dash + 1), CultureInfo.InvariantCulture);
            for (var n = from; n <= to; n++)
            {
                yield return n;
            }
        }
    }
}
