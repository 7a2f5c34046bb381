using System.Text.Json;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): the head moves to a side branch while our node syncs. The shared
/// @ethereumjs/client source holds the Prague chain (branch A); our node syncs A's head through a loopback proxy that holds the first body request, so the skeleton is linked and the backfill is in
/// flight. Then the source itself reorgs (Lodestar rewinds it to A's block head−8 and builds ten blocks with other
/// contents: branch B, now its canonical chain), and Lodestar tells our node forkchoiceUpdated(B's head). Our node must
/// drop the in-flight A request, download B's headers by number from the source's new canonical chain, backfill, and
/// answer VALID on B with every hash equal to the source's.
/// </summary>
/// <remarks>
/// The source is the collection's shared one (no second chain build): the test puts it back on branch A afterwards,
/// always going through the fork block: ethereumjs 0.10.5 moves its head to an ancestor and up from there readily,
/// while a direct forkchoiceUpdated across to a sibling branch's head took it ~10 s and is not relied on.
/// </remarks>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RpcPeerReorgTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>Branch B's blocks: it forks 8 below A's head and ends 2 above it, so it overlaps A and outgrows it.</summary>
    private const int BranchBlocks = 10;

    private const int ForkDepth = 8;

    /// <summary>Bound on each wait for our node (a skeleton cycle, the sync); never a timing assertion.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact(DisplayName = "Mid-sync, Lodestar moves the head to a side branch the source reorged to: our node ends VALID on the new branch with the source's hashes")]
    public async Task Our_node_follows_the_head_to_a_side_branch_while_syncing()
    {
        var chain = fixture.Chain;
        var source = fixture.Source;
        Assert.True(chain.Head.Number > ForkDepth, $"the side branch forks {ForkDepth} below the head: {PragueChainFixture.BlocksVariable} must be above {ForkDepth}");
        var fork = chain.Head.Number - ForkDepth;
        try
        {
            await SyncAcrossTheReorgAsync(chain, source, fork);
        }
        finally
        {
            await RestoreBranchAAsync(chain, source, fork);
        }
    }

    private async Task SyncAcrossTheReorgAsync(BuiltChain chain, EthereumJsNode source, long fork)
    {
        var tooling = fixture.Tooling;
        Assert.Equal(chain.Head.Hash, await source.GetBlockHashAsync(chain.Head.Number));

        // Bodies by number (the second half of a body request) are held: the skeleton links, the backfill waits.
        await using var proxy = await RpcProxy.StartAsync(source.RpcUrl);
        proxy.Rule = request => request.All("debug_getRawBlock") && request.AboveGenesis ? ProxyAction.Hold : ProxyAction.Forward;
        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile, ["--sync.rpc", proxy.Url.ToString()]);

        var toA = await DriveHeadAsync(node, chain);
        Assert.True(toA.NewPayloads.Single().Status == "SYNCING", $"newPayload(A's head) on an empty node: {toA.NewPayloads.Single()}");
        Assert.True(toA.ForkchoiceUpdates.Single().Status == "SYNCING", $"forkchoiceUpdated(A's head) on an empty node: {toA.ForkchoiceUpdates.Single()}");
        var held = await proxy.FirstHeld.WaitAsync(Bound);
        var midSync = await node.RpcAsync("skeleton_status", []);
        output.WriteLine($"mid-sync (bodies held: {string.Join(',', held.FirstParams.Take(3))}...): {midSync}");
        Assert.True(midSync.GetProperty("linked").GetBoolean(), $"A's headers should be linked while its bodies are held: {midSync}");
        Assert.Equal(Quantity(chain.Head.Number), midSync.GetProperty("subchains")[0].GetProperty("head").GetString());
        Assert.Equal("0x0", midSync.GetProperty("chain").GetProperty("headNumber").GetString());

        // The source reorgs to branch B, then the beacon node moves our node's head there.
        var branch = await ChainBuilder.BuildBranchAsync(tooling, source, chain, fork, BranchBlocks, Path.Combine(fixture.WorkDirectory, "branch-b.json"));
        Assert.Equal(branch.Head.Hash, await source.GetBlockHashAsync(branch.Head.Number));
        Assert.NotEqual(chain.Blocks[(int)fork].Hash, branch.Blocks[0].Hash);
        var toB = await DriveHeadAsync(node, branch);
        Assert.True(toB.ForkchoiceUpdates.Single().Status == "SYNCING", $"forkchoiceUpdated(B's head) mid-sync: {toB.ForkchoiceUpdates.Single()}");

        // A new cycle on B's head starts only after the backfiller was suspended, which cancels the held A request.
        var restarted = await WaitForAsync(node, s => s.GetProperty("subchains")[0].GetProperty("head").GetString() == Quantity(branch.Head.Number));
        Assert.True(restarted, $"no skeleton cycle on B's head: {await node.RpcAsync("skeleton_status", [])}\n{node.Process.Diagnostics()}");
        proxy.Release();

        var synced = await WaitForAsync(node, s => s.GetProperty("chain").GetProperty("head").GetString() == branch.Head.Hash);
        var final = await node.RpcAsync("skeleton_status", []);
        output.WriteLine($"after the sync: {final}");
        output.WriteLine(string.Join('\n', proxy.Exchanges.Select(e => $"{e.Request.Sequence}: {e.Request.Methods.Count} x {e.Request.Methods[0]} -> {e.Action}, {e.Outcome}")));
        Assert.True(synced, $"not synced to B within {Bound}: {final}\n{node.Process.Diagnostics()}");
        Assert.Contains(proxy.Exchanges, e => e.Request == held && e.Outcome == "held, client gave up");
        Assert.All(final.GetProperty("peers").EnumerateArray(), p => Assert.False(p.GetProperty("dropped").GetBoolean(), $"the honest source was dropped: {p}"));

        var again = await DriveHeadAsync(node, branch);
        Assert.All(again.NewPayloads, c => Assert.True(c.Status == "VALID", $"newPayload(B's head) after the sync: {c}"));
        Assert.All(again.ForkchoiceUpdates, c => Assert.True(c.Status == "VALID", $"forkchoiceUpdated(B's head) after the sync: {c}"));
        for (var number = 0L; number <= branch.Head.Number; number++)
        {
            var expected = number == 0 ? chain.GenesisHash : number <= fork ? chain.Blocks[(int)number - 1].Hash : branch.Blocks[(int)(number - fork - 1)].Hash;
            Assert.Equal(expected, await source.GetBlockHashAsync(number));
            Assert.Equal(expected, await node.GetBlockHashAsync(number));
        }

        Assert.False(await node.HasBlockAsync(chain.Head.Hash), "A's head should not have been written");
    }

    /// <summary>
    /// Other tests read the shared source as branch A. Lodestar rewinds it to the fork block (an ancestor of B's head,
    /// which ethereumjs takes well) and walks it up A's blocks, which it still holds, one forkchoiceUpdated each.
    /// </summary>
    private async Task RestoreBranchAAsync(BuiltChain chain, EthereumJsNode source, long fork)
    {
        var restore = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(source.EngineUrl, source.JwtSecretFile, chain.ChainFile) { From = fork, To = chain.Head.Number });
        Assert.All(restore.Calls.Where(c => c.Call is "newPayload" or "forkchoiceUpdated"), c => Assert.True(c.Status == "VALID", $"restoring branch A on the source: {c}"));
        Assert.Equal(chain.Head.Hash, await source.GetBlockHashAsync(chain.Head.Number));
        Assert.Equal(chain.Blocks[(int)fork].Hash, await source.GetBlockHashAsync(fork + 1));
    }

    private Task<DriveResult> DriveHeadAsync(EngineSkeletonNode node, BuiltChain chain) =>
        LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = chain.Head.Number, To = chain.Head.Number });

    /// <summary>
    /// Cross-process: the only way to see the node's progress is to ask skeleton_status; bounded by a deadline, each
    /// ask is cheap.
    /// </summary>
    private static async Task<bool> WaitForAsync(EngineSkeletonNode node, Func<JsonElement, bool> done)
    {
        using var deadline = new CancellationTokenSource(Bound);
        while (!deadline.IsCancellationRequested)
        {
            if (done(await node.RpcAsync("skeleton_status", [], CancellationToken.None)))
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        }

        return false;
    }

    private static string Quantity(long number) => "0x" + number.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
}
