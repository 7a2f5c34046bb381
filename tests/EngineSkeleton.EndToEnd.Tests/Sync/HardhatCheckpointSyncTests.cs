using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): our server as a real process, started as README says, syncs hardhat 3's
/// Osaka chain over the JSON fallback (hardhat serves no debug_ methods) and ends VALID on its head.
/// </summary>
/// <remarks>
/// hardhat's genesis does not hash like a geth genesis.json (its transactionsRoot is keccak256(""), see
/// <see cref="HardhatFallbackSyncTests"/>), so the server cannot anchor on block 0. It does not need to:
/// <c>--sync.checkpoint 1:HASH</c> makes hardhat's block 1 the anchor, and the genesis.json read back from hardhat
/// then only gives the chain id and the fork schedule (every fork at 0, Osaka included). Its hash is never compared
/// with anything: the skeleton links to the checkpoint and never asks below it.
/// </remarks>
[Collection(HardhatChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class HardhatCheckpointSyncTests(HardhatChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>The lowest post-merge block above hardhat's genesis; it carries mine.mjs's first three transactions.</summary>
    private const int CheckpointNumber = 1;

    /// <summary>
    /// Syncing 1,000 blocks from hardhat takes a few seconds here; a loaded 2-core CI box gets a wide margin. A guard
    /// against a hung node, never a timing assertion.
    /// </summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(3);

    /// <summary>Between forkchoiceUpdated calls while waiting: a beacon node repeats it each slot; this is cheaper than a slot.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    [Fact(DisplayName = "Our server, started with hardhat's genesis.json, --sync.checkpoint at hardhat's block 1 and --sync.rpc at hardhat, answers forkchoiceUpdated(head) SYNCING, then VALID, with every hash from the checkpoint up hardhat's")]
    public async Task Our_server_checkpointed_on_hardhats_block_1_syncs_to_its_head_and_answers_VALID()
    {
        var chain = fixture.Chain;
        var checkpoint = chain.Blocks[CheckpointNumber];
        var head = chain.HeadBlock;
        Assert.True(checkpoint.TransactionCount > 0, $"the checkpoint block should carry transactions (its body is checked against its roots): {checkpoint}");

        await using var node = await EngineSkeletonNode.StartAsync(
            chain.GenesisFile,
            ["--sync.rpc", fixture.Node.RpcUrl.ToString(), "--sync.checkpoint", $"{checkpoint.Number}:{checkpoint.Hash}"]);
        var started = TimeProvider.System.GetTimestamp();

        // Anchored at the checkpoint fetched from hardhat: it is the head, and nothing below it is held.
        Assert.Equal(checkpoint.Hash, await node.GetBlockHashAsync(checkpoint.Number));
        Assert.Null(await node.GetBlockHashAsync(0));
        Assert.Equal(checkpoint.Number, RpcClient.ParseQuantity((await node.RpcAsync("eth_blockNumber", [])).GetString()));

        var first = await node.ForkchoiceUpdatedAsync(head.Hash);
        Assert.True(first == "SYNCING", $"forkchoiceUpdated(head) on a node holding only the checkpoint: {first}");

        // Cross-process: the only way to see the sync finish is to ask, as the beacon node does; bounded by a deadline.
        using var deadline = new CancellationTokenSource(SyncBound);
        var status = first;
        var calls = 1;
        while (status != "VALID" && !deadline.IsCancellationRequested)
        {
            await Task.Delay(PollInterval, CancellationToken.None);
            status = await node.ForkchoiceUpdatedAsync(head.Hash);
            calls++;
            Assert.True(status is "SYNCING" or "VALID", $"forkchoiceUpdated(head) #{calls} while syncing: {status}");
        }
        Assert.True(status == "VALID", $"not VALID within {SyncBound} ({calls} forkchoiceUpdated calls): {await node.RpcAsync("skeleton_status", [])}\n{node.Process.Diagnostics()}");
        output.WriteLine($"synced {head.Number - checkpoint.Number} hardhat blocks above the checkpoint in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s ({calls} forkchoiceUpdated calls)");

        Assert.Equal(head.Number, RpcClient.ParseQuantity((await node.RpcAsync("eth_blockNumber", [])).GetString()));
        for (var number = checkpoint.Number; number <= head.Number; number++)
        {
            var expected = chain.Blocks[(int)number].Hash;
            var ours = await node.GetBlockHashAsync(number);
            Assert.True(ours == expected, $"block {number}: ours {ours}, hardhat's {expected}");
        }
        Assert.Null(await node.GetBlockHashAsync(0));
    }
}
