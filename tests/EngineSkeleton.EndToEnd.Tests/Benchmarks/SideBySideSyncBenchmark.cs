using System.Globalization;
using System.Text.Json.Nodes;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Benchmarks;

/// <summary>
/// BENCHMARK (issue 4, "side by side"), not a timing test: in one run, our server and a second, fresh
/// @ethereumjs/client 0.10.5 each beacon-sync the same chain from the same ethereumjs source — ours over JSON-RPC
/// (<c>--sync.rpc</c>), ethereumjs over devp2p (the source as its bootnode, loopback only) — each told only the head
/// by Lodestar's engine client (newPayload(head), forkchoiceUpdated(head)). It asserts that both end on the
/// source's chain, hash for hash, and writes both times; docs/benchmarks.md records them.
/// </summary>
/// <remarks>
/// Opt-in (<see cref="SideBySideFactAttribute"/>): building a chain on ethereumjs costs ~1 s a block here, more than
/// CI's budget. ethereumjs stalls its own beacon sync on a head stamped in the past, so this chain is stamped
/// ahead of the wall clock (genesis = now − blocks × 12 s + a margin covering the build and both syncs), unlike
/// the shared deterministic chain of <see cref="PragueChainFixture"/>.
/// </remarks>
[Trait("Category", "Benchmark")]
public sealed class SideBySideSyncBenchmark(ITestOutputHelper output)
{
    /// <summary>Chain length of the side-by-side run.</summary>
    public const string BlocksVariable = "E2E_SIDE_BY_SIDE_BLOCKS";

    private const int DefaultBlocks = 128;

    /// <summary>Seconds per slot, as build-chain.mjs stamps blocks.</summary>
    private const int BlockTime = 12;

    /// <summary>A bound per sync, never a timing assertion: ethereumjs executes every block it syncs.</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(10);

    [SideBySideFact(DisplayName = "Side by side: our node (JSON-RPC) and a fresh ethereumjs (devp2p) beacon-sync the same chain from one ethereumjs source; both end on its hashes")]
    public async Task Our_node_and_ethereumjs_beacon_sync_the_same_chain_from_the_same_source()
    {
        var blocks = ConfiguredBlocks();
        var tooling = await NodeTooling.EnsureInstalledAsync();
        var work = Directory.CreateTempSubdirectory("engineskeleton-side-by-side-").FullName;
        try
        {
            // ~1 s a block to build on 2 shared cores, then two syncs: keep the head ahead of the clock until the end.
            var margin = TimeSpan.FromSeconds((blocks * 1.5) + 600);
            var genesisFile = Path.Combine(work, "genesis.json");
            var genesis = JsonNode.Parse(await File.ReadAllTextAsync(tooling.Script("genesis.json")))!;
            var genesisTime = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() - (blocks * BlockTime) + (long)margin.TotalSeconds;
            genesis["timestamp"] = "0x" + genesisTime.ToString("x", CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(genesisFile, genesis.ToJsonString());

            await using var source = await EthereumJsNode.StartAsync(tooling, "source", genesisFile, peering: new EthereumJsPeering(MaxPeers: 4));
            var chain = await ChainBuilder.BuildAsync(tooling, source, blocks, Path.Combine(work, "chain.json"), TimeSpan.FromSeconds(60 + (blocks * 4)));
            output.WriteLine($"chain: {blocks} blocks, {chain.Blocks.Sum(b => b.TransactionCount)} transactions, built in {chain.Summary!.WallClock.TotalSeconds:F0} s; head stamped {chain.Head.Timestamp - TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()} s ahead of now");

            // ethereumjs first: its head must still lie ahead of the clock when it syncs.
            var theirs = await SyncEthereumJsAsync(tooling, source, chain, genesisFile);
            var ours = await SyncOursAsync(tooling, source, chain);

            var line = string.Create(CultureInfo.InvariantCulture,
                $"side-by-side blocks={blocks} ours={ours} ethereumjs={theirs}");
            output.WriteLine(line);
            await File.AppendAllTextAsync(Path.Combine(Path.GetTempPath(), "engineskeleton-side-by-side.txt"), $"{TimeProvider.System.GetUtcNow():O} {line}\n");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("E2E_KEEP_TEMP") != "1")
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    /// <summary>A fresh ethereumjs with the source as its only (boot) peer; timed from the driver's start to the head served.</summary>
    private async Task<SyncTime> SyncEthereumJsAsync(NodeTooling tooling, EthereumJsNode source, BuiltChain chain, string genesisFile)
    {
        var head = chain.Head.Number;
        await using var replica = await EthereumJsNode.StartAsync(tooling, "replica", genesisFile, peering: new EthereumJsPeering(MaxPeers: 4, Bootnode: await source.GetEnodeAsync()));
        using (var peered = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            // Cross-process: the peer count is only seen by asking; bounded by the deadline.
            while (RpcClient.ParseQuantity((await replica.RpcAsync("net_peerCount", [])).GetString()) < 1 && !peered.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
            }

            Assert.True(!peered.IsCancellationRequested, $"the replica found no devp2p peer within a minute.\n{replica.Process.Diagnostics()}\n{source.Process.Diagnostics()}");
        }

        var started = TimeProvider.System.GetTimestamp();
        var drive = await LodestarDriver.DriveAsync(tooling, new DriveOptions(replica.EngineUrl, replica.JwtSecretFile, chain.ChainFile) { From = head, To = head, ForkchoiceUpdates = ForkchoiceUpdates.LastBlock });
        var forkchoice = Assert.Single(drive.ForkchoiceUpdates);
        Assert.True(forkchoice.Status is "SYNCING" or "VALID", $"forkchoiceUpdated(head) on the fresh ethereumjs: {forkchoice}");
        await WaitForHeadAsync(() => replica.GetBlockNumberAsync(), head, replica.Process);
        var synced = TimeProvider.System.GetElapsedTime(started);
        await AssertSameChainAsync(chain, n => replica.GetBlockHashAsync(n));
        return new SyncTime(synced, drive.Elapsed, ForkchoiceMs(forkchoice));
    }

    /// <summary>Our server with --sync.rpc at the source; timed the same way.</summary>
    private async Task<SyncTime> SyncOursAsync(NodeTooling tooling, EthereumJsNode source, BuiltChain chain)
    {
        var head = chain.Head.Number;
        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile, ["--sync.rpc", source.RpcUrl.ToString()]);
        var started = TimeProvider.System.GetTimestamp();
        var drive = await LodestarDriver.DriveAsync(tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head, ForkchoiceUpdates = ForkchoiceUpdates.LastBlock });
        var forkchoice = Assert.Single(drive.ForkchoiceUpdates);
        Assert.True(forkchoice.Status == "SYNCING", $"forkchoiceUpdated(head) on our empty node: {forkchoice}");
        await WaitForHeadAsync(async () => await node.GetBlockHashAsync(head) is null ? -1 : head, head, node.Process);
        var synced = TimeProvider.System.GetElapsedTime(started);
        await AssertSameChainAsync(chain, n => node.GetBlockHashAsync(n));
        // Where our time went: the sync's own log lines (peer capabilities, batches, backfill progress).
        output.WriteLine($"our node's log, last lines:\n  {string.Join("\n  ", node.Process.RecentOutput().TakeLast(40))}");
        return new SyncTime(synced, drive.Elapsed, ForkchoiceMs(forkchoice));
    }

    private static async Task WaitForHeadAsync(Func<Task<long>> headOf, long head, ProcessHandle process)
    {
        // Cross-process: the only way to see a sync finish is to ask; bounded by a deadline, each ask is cheap.
        using var deadline = new CancellationTokenSource(SyncBound);
        while (await headOf() < head && !deadline.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        }

        Assert.True(await headOf() >= head, $"{process.Name} did not reach head {head} within {SyncBound}.\n{process.Diagnostics()}");
    }

    private static async Task AssertSameChainAsync(BuiltChain chain, Func<long, Task<string?>> hashAt)
    {
        Assert.Equal(chain.GenesisHash, await hashAt(0));
        foreach (var block in chain.Blocks)
        {
            Assert.Equal(block.Hash, await hashAt(block.Number));
        }
    }

    private static int ForkchoiceMs(EngineCall call)
    {
        using var json = System.Text.Json.JsonDocument.Parse(call.Line);
        return json.RootElement.TryGetProperty("ms", out var ms) ? ms.GetInt32() : -1;
    }

    private static int ConfiguredBlocks()
    {
        var text = Environment.GetEnvironmentVariable(BlocksVariable);
        return string.IsNullOrWhiteSpace(text) ? DefaultBlocks
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var blocks) && blocks is >= 1 and <= 1024 ? blocks
            : throw new InvalidOperationException($"{BlocksVariable} must be a block count from 1 to 1024, got '{text}'.");
    }

    /// <param name="Synced">From the driver's start (Lodestar's imports included) to the head served with its hash.</param>
    /// <param name="Driver">The driver run: Lodestar's imports, exchangeCapabilities, newPayload(head), forkchoiceUpdated(head).</param>
    /// <param name="ForkchoiceMs">How long the node took to answer forkchoiceUpdated(head).</param>
    private sealed record SyncTime(TimeSpan Synced, TimeSpan Driver, int ForkchoiceMs)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Synced.TotalSeconds:F1}s (driver {Driver.TotalSeconds:F1}s, fcu answered in {ForkchoiceMs} ms, head served {(Synced - Driver).TotalSeconds:F1}s after the driver ended)");
    }
}

/// <summary>
/// Runs only with <c>E2E_SIDE_BY_SIDE=1</c>; otherwise the test is reported as skipped with this reason (never
/// silently): it builds its own chain on ethereumjs, minutes of work that CI's budget does not cover.
/// </summary>
public sealed class SideBySideFactAttribute : FactAttribute
{
    public const string Variable = "E2E_SIDE_BY_SIDE";

    public SideBySideFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            Skip = $"benchmark, opt-in: set {Variable}=1 (see docs/benchmarks.md, \"Side by side\")";
        }
    }
}
