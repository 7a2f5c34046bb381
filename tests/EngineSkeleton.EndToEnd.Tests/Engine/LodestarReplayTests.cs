using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Engine;

/// <summary>
/// END-TO-END (real third-party software): Lodestar's own ExecutionEngineHttp, with its own JWT, drives our server
/// (a real child process) through a Prague chain that @ethereumjs/client built. E2E_CHAIN_BLOCKS sizes the chain.
/// </summary>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class LodestarReplayTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    [Fact(DisplayName = "Lodestar replays an ethereumjs-built Prague chain into EngineSkeleton: every answer VALID, same hashes")]
    public async Task Lodestar_replays_the_chain_into_our_node_and_every_answer_is_VALID()
    {
        var chain = fixture.Chain;
        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile);

        var drive = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile));
        output.WriteLine($"replayed {chain.Blocks.Count} blocks in {drive.Elapsed.TotalSeconds:F1} s");

        var capabilities = drive.Call("exchangeCapabilities");
        Assert.True(capabilities is { Error: null }, $"exchangeCapabilities failed: {capabilities}");
        Assert.Contains("engine_newPayloadV4", capabilities!.Line, StringComparison.Ordinal);
        var version = drive.Call("getClientVersionV1");
        Assert.True(version is { Error: null }, $"getClientVersionV1 failed: {version}");
        Assert.Contains("EngineSkeleton", version!.Line, StringComparison.Ordinal);

        Assert.True(chain.Blocks.Count >= 64 || Environment.GetEnvironmentVariable("E2E_CHAIN_BLOCKS") is not null, "the issue asks for at least 64 blocks");
        Assert.Equal(chain.Blocks.Select(b => b.Hash), drive.NewPayloads.Select(c => c.Hash));
        Assert.All(drive.NewPayloads, call =>
        {
            Assert.True(call.Status == "VALID", $"newPayload not VALID: {call}\n{node.Process.Diagnostics()}");
            Assert.Equal(call.Hash, call.LatestValidHash);
            Assert.True(call.SameParams, $"Lodestar did not send the recorded params: {call}");
        });
        Assert.Equal(chain.Blocks.Count, drive.ForkchoiceUpdates.Count());
        Assert.All(drive.ForkchoiceUpdates, call => Assert.True(call.Status == "VALID", $"forkchoiceUpdated not VALID: {call}"));

        Assert.True(chain.Blocks.Sum(b => b.TransactionCount) > 0, "the chain carries transactions");
        for (var number = 0L; number <= chain.Head.Number; number++)
        {
            var expected = number == 0 ? chain.GenesisHash : chain.Blocks[(int)number - 1].Hash;
            Assert.Equal(expected, await node.GetBlockHashAsync(number));
        }
    }

    [Fact(DisplayName = "Lodestar replay with one block's transaction list altered: INVALID for it, SYNCING for its descendants, nothing stored")]
    public async Task An_altered_transaction_list_is_INVALID_and_its_descendants_are_not_stored()
    {
        var chain = fixture.Chain;
        var target = chain.Blocks.First(b => b.Number >= chain.Blocks.Count / 2 && b.TransactionCount > 0);
        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile);

        var drive = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile)
        {
            Alterations = [new BlockAlteration(target.Number, TransactionAlteration.Drop, 0, Rehash: false)],
        });

        foreach (var call in drive.NewPayloads)
        {
            if (call.Block < target.Number)
            {
                Assert.True(call.Status == "VALID", $"before the altered block: {call}");
            }
            else if (call.Block == target.Number)
            {
                // V4: a payload whose blockHash does not match its contents is INVALID with no latestValidHash.
                Assert.True(call.Status == "INVALID", $"altered block: {call}");
                Assert.Null(call.LatestValidHash);
            }
            else
            {
                // Their parent (the real block) was never imported: unknown parent, so SYNCING (per spec).
                Assert.True(call.Status is "SYNCING" or "INVALID", $"descendant: {call}");
            }
        }
        foreach (var block in chain.Blocks.Where(b => b.Number >= target.Number))
        {
            Assert.False(await node.HasBlockAsync(block.Hash), $"block {block.Number} must not be stored");
        }
        Assert.Equal(chain.Blocks[(int)target.Number - 2].Hash, await node.GetBlockHashAsync(target.Number - 1));
        Assert.Null(await node.GetBlockHashAsync(target.Number));
    }
}
