using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Engine;

/// <summary>
/// FIXTURE SELF-TEST (end-to-end, real third-party software): proves the chain the fixture builds is replayable,
/// so later tests can trust it when they point drive.mjs at EngineSkeleton. Starts ethereumjs processes; takes
/// about a minute for 64 blocks on 2 cores (E2E_CHAIN_BLOCKS sizes it).
/// </summary>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ChainReplayTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    [Fact(DisplayName = "Fixture self-test: a chain built on ethereumjs by Lodestar replays VALID, block for block, into a fresh ethereumjs")]
    public async Task Chain_replays_valid_into_a_second_fresh_ethereumjs()
    {
        var chain = fixture.Chain;
        foreach (var (step, took) in fixture.Timings)
        {
            output.WriteLine($"{step}: {took.TotalSeconds:F1} s");
        }

        output.WriteLine($"build per block: median {chain.Summary?.BlockMsMedian} ms, first {chain.Summary?.BlockMsFirst} ms, max {chain.Summary?.BlockMsMax} ms");

        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var replica = await EthereumJsNode.StartAsync(fixture.Tooling, "replica", chain.GenesisFile);
        output.WriteLine($"replica started: {started.Elapsed.TotalSeconds:F1} s");

        var drive = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(replica.EngineUrl, replica.JwtSecretFile, chain.ChainFile));
        output.WriteLine($"replayed {chain.Blocks.Count} blocks in {drive.Elapsed.TotalSeconds:F1} s (drive.mjs wall clock)");

        var capabilities = drive.Call("exchangeCapabilities");
        Assert.True(capabilities is { Error: null }, $"exchangeCapabilities failed: {capabilities}");
        var newPayloads = drive.NewPayloads.ToList();
        var forkchoiceUpdates = drive.ForkchoiceUpdates.ToList();
        Assert.Equal(chain.Blocks.Select(b => b.Hash), newPayloads.Select(c => c.Hash));
        Assert.Equal(chain.Blocks.Select(b => b.Hash), forkchoiceUpdates.Select(c => c.Hash));
        Assert.All(newPayloads, call =>
        {
            Assert.True(call.Status == "VALID", $"newPayload not VALID: {call}\n{replica.Process.Diagnostics()}");
            Assert.Equal(call.Hash, call.LatestValidHash);
            Assert.True(call.SameParams, $"Lodestar did not re-send the recorded params: {call}");
        });
        Assert.All(forkchoiceUpdates, call => Assert.True(call.Status == "VALID", $"forkchoiceUpdated not VALID: {call}"));

        Assert.Equal(chain.Head.Number, await replica.GetBlockNumberAsync());
        for (var number = 0L; number <= chain.Head.Number; number++)
        {
            var expected = number == 0 ? chain.GenesisHash : chain.Blocks[(int)number - 1].Hash;
            Assert.Equal(expected, await fixture.Source.GetBlockHashAsync(number));
            Assert.Equal(expected, await replica.GetBlockHashAsync(number));
        }
    }
}
