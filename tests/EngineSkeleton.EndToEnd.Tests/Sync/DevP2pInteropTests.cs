using System.Text.RegularExpressions;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Testing.Chains;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): our server, started as README says with only <c>--bootnodes</c>, against a
/// peer built on <c>@ethereumjs/devp2p</c> 10 (RLPx, eth/68) serving the execution-apis chain. It dials the peer, both
/// accept each other's Status, it skeleton-syncs the headers and backfills the bodies over devp2p, and answers VALID
/// with every hash the chain's. Then a second ethereumjs peer dials us and fetches headers and bodies from what we hold.
/// </summary>
/// <remarks>
/// The chain stops at block 50: ethereumjs 10.0.0 knows no fork after Osaka and refuses the EIP-2124 fork id of a head
/// past BPO1 (block 51 on), so a longer chain would test its fork table, not our sync (Fixtures/node/README.md).
/// </remarks>
[Trait("Category", "EndToEnd")]
public sealed partial class DevP2pInteropTests(ITestOutputHelper output)
{
    private const int Head = 50;

    private static readonly TimeSpan Start = TimeSpan.FromSeconds(90);

    /// <summary>How long the whole sync may take: 50 blocks from one peer.</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(2);

    private static string Genesis => Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "genesis.json");

    private static string ChainFile => Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "chain.rlp");

    [Fact(DisplayName = "Given only --bootnodes, our node syncs the chain from an @ethereumjs/devp2p peer to VALID, then serves it to another that dials us")]
    public async Task Our_node_syncs_from_and_serves_an_ethereumjs_devp2p_peer()
    {
        var tooling = await NodeTooling.EnsureInstalledAsync();
        await using var source = await EthereumJsDevP2pPeer.StartAsync(tooling, "ethjs-devp2p-source", EthereumJsDevP2pPeer.Serving(Genesis, ChainFile, Head), Start);
        await using var node = await EngineSkeletonNode.StartAsync(Genesis, ["--bootnodes", source.Enode]);
        var self = EnodePattern().Match(await node.Process.WaitForLineAsync(l => l.Contains("Started P2P networking", StringComparison.Ordinal), Start)).Value;
        output.WriteLine($"our enode {self}; theirs {source.Enode}");

        var status = await source.WaitForEventAsync("status", Start);
        Assert.Equal(68, status.GetProperty("remote").GetProperty("version").GetInt32());

        var head = ExecutionApisChain.At(Head).Header.Hash.ToString();
        using var deadline = new CancellationTokenSource(SyncBound);
        var answer = "";
        while (!deadline.IsCancellationRequested && (answer = await node.ForkchoiceUpdatedAsync(head)) != "VALID")
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
        }
        Assert.True(answer == "VALID", $"not VALID within {SyncBound} (last {answer}): {await node.RpcAsync("skeleton_status", [])}\n{node.Process.Diagnostics()}\n{source.Process.Diagnostics()}");
        for (var number = 0; number <= Head; number++)
        {
            Assert.Equal(ExecutionApisChain.At((ulong)number).Header.Hash.ToString(), await node.GetBlockHashAsync(number));
        }
        Assert.NotEmpty(source.Events("served"));

        // The other direction: a fresh ethereumjs peer dials us, accepts our Status and checks what we serve.
        var fetch = await ProcessHandle.RunAsync(
            "ethjs-devp2p-fetcher",
            tooling.NodePath,
            ["--import", "./loopback.mjs", tooling.Script("devp2p-peer.mjs"), "--port", "0", "--genesis", Genesis, "--dial", self, "--fetch-headers", "head:64:1", "--fetch-headers", "0:64:0", "--fetch-bodies", "--exit-when-done"],
            Start,
            tooling.FixtureDirectory);
        output.WriteLine(string.Join('\n', fetch.StandardOutput));
        Assert.True(fetch.ExitCode == 0, $"the ethereumjs fetcher failed:\n{fetch.Diagnostics}\n{node.Process.Diagnostics()}");
        var headers = fetch.StandardOutput.Where(l => l.Contains("\"event\":\"headers\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, headers.Count);
        Assert.All(headers, l => Assert.Contains($"\"count\":{Head + 1}", l, StringComparison.Ordinal));
        Assert.Contains(fetch.StandardOutput, l => l.Contains("\"event\":\"bodies\"", StringComparison.Ordinal) && l.Contains("\"verified\":true", StringComparison.Ordinal));
    }

    [GeneratedRegex("enode://[0-9a-f]{128}@[0-9.]+:[0-9]+")]
    private static partial Regex EnodePattern();
}
