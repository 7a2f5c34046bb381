using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): our server, started as README says with --sync.rpc pointing at an
/// @ethereumjs/client source and the same genesis, is told only the head through Lodestar's engine client; it
/// answers SYNCING, skeleton-syncs the headers from the source's JSON-RPC, backfills the bodies, and then answers
/// VALID with every hash equal to the source's.
/// </summary>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RpcPeerSyncTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>How long the whole sync may take: the chain is small (E2E_CHAIN_BLOCKS, default 64).</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(2);

    [Fact(DisplayName = "Told only the head by Lodestar, our node syncs from ethereumjs over JSON-RPC and ends VALID with the source's hashes")]
    public async Task Our_node_syncs_the_head_from_an_ethereumjs_source_and_answers_VALID()
    {
        var chain = fixture.Chain;
        var head = chain.Head.Number;
        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile, ["--sync.rpc", fixture.Source.RpcUrl.ToString()]);
        var started = TimeProvider.System.GetTimestamp();

        var first = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        var payload = Assert.Single(first.NewPayloads);
        Assert.True(payload.Status == "SYNCING", $"newPayload(head) on an empty node: {payload}");
        var forkchoice = Assert.Single(first.ForkchoiceUpdates);
        Assert.True(forkchoice.Status == "SYNCING", $"forkchoiceUpdated(head) on an empty node: {forkchoice}");

        // Cross-process: the only way to see the sync finish is to ask; bounded by a deadline, each ask is cheap.
        using var deadline = new CancellationTokenSource(SyncBound);
        while (await node.GetBlockHashAsync(head) is null && !deadline.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
        }
        Assert.True(await node.GetBlockHashAsync(head) is not null, $"not synced within {SyncBound}: {await node.RpcAsync("skeleton_status", [])}\n{node.Process.Diagnostics()}");
        output.WriteLine($"synced {head} blocks in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s (incl. the Lodestar driver's start)");

        var second = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        Assert.All(second.NewPayloads, c => Assert.True(c.Status == "VALID", $"newPayload(head) after the sync: {c}"));
        Assert.All(second.ForkchoiceUpdates, c => Assert.True(c.Status == "VALID", $"forkchoiceUpdated(head) after the sync: {c}"));
        for (var number = 0L; number <= head; number++)
        {
            var expected = number == 0 ? chain.GenesisHash : chain.Blocks[(int)number - 1].Hash;
            Assert.Equal(expected, await node.GetBlockHashAsync(number));
        }
    }
}
