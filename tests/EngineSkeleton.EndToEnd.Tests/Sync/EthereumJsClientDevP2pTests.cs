using System.Text.RegularExpressions;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): the scenario of <see cref="RpcPeerSyncTests"/> over devp2p. The only
/// source is a full <c>@ethereumjs/client</c> 0.10.5 node holding the Prague chain, and our server is given only its
/// enode (<c>--bootnodes</c>, no <c>--sync.rpc</c>). Told only the head by Lodestar's engine client, our node answers
/// SYNCING, skeleton-syncs the headers and backfills the bodies over RLPx (eth/68: ethereumjs has no eth/69), and
/// then answers VALID with every hash equal to the chain's.
/// </summary>
/// <remarks>
/// The collection's source node refuses every peer (<c>--maxPeers 0</c>), so the test starts its own ethereumjs node
/// that accepts peers and replays the chain into it with Lodestar, as the side-by-side benchmark does. Both stay on
/// loopback (loopback.mjs, no discovery). The Prague genesis has every fork at 0 and none after Prague, so
/// ethereumjs 10's fork id check (which knows no fork past Osaka) agrees with EIP-2124 here.
/// </remarks>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed partial class EthereumJsClientDevP2pTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>How long the whole sync may take: the chain is small (E2E_CHAIN_BLOCKS, default 256).</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Start = TimeSpan.FromSeconds(90);

    [Fact(DisplayName = "Given only --bootnodes of an @ethereumjs/client source, our node syncs the head Lodestar names over devp2p and ends VALID with the chain's hashes")]
    public async Task Our_node_syncs_from_an_ethereumjs_client_over_devp2p_and_answers_VALID()
    {
        var chain = fixture.Chain;
        var head = chain.Head.Number;

        // A source that accepts peers: a fresh ethereumjs node, the chain replayed into it by Lodestar.
        await using var source = await EthereumJsNode.StartAsync(fixture.Tooling, "devp2p-source", chain.GenesisFile, peering: new EthereumJsPeering(MaxPeers: 4));
        var replay = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(source.EngineUrl, source.JwtSecretFile, chain.ChainFile) { ForkchoiceUpdates = ForkchoiceUpdates.LastBlock });
        Assert.All(replay.NewPayloads, c => Assert.True(c.Status == "VALID", $"replaying the chain into the ethereumjs source: {c}"));
        Assert.Equal(head, await source.GetBlockNumberAsync());
        Assert.Equal(chain.Head.Hash, await source.GetBlockHashAsync(head));

        var enode = Loopback(await source.GetEnodeAsync(), source.P2pPort);
        output.WriteLine($"ethereumjs source {enode} holds {head} blocks (replayed in {replay.Elapsed.TotalSeconds:F1} s)");

        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile, ["--bootnodes", enode]);
        var started = TimeProvider.System.GetTimestamp();
        var self = EnodePattern().Match(await node.Process.WaitForLineAsync(l => l.Contains("Started P2P networking", StringComparison.Ordinal), Start)).Value;
        output.WriteLine($"our enode {self}");

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
        var status = await node.RpcAsync("skeleton_status", []);
        Assert.True(
            await node.GetBlockHashAsync(head) is not null,
            $"not synced within {SyncBound}: {status}\n{node.Process.Diagnostics()}\n{source.Process.Diagnostics()}");
        output.WriteLine($"synced {head} blocks over devp2p in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s (incl. the Lodestar driver's start)");
        output.WriteLine($"skeleton_status: {status}");

        var second = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        Assert.All(second.NewPayloads, c => Assert.True(c.Status == "VALID", $"newPayload(head) after the sync: {c}"));
        Assert.All(second.ForkchoiceUpdates, c => Assert.True(c.Status == "VALID", $"forkchoiceUpdated(head) after the sync: {c}"));
        for (var number = 0L; number <= head; number++)
        {
            var expected = number == 0 ? chain.GenesisHash : chain.Blocks[(int)number - 1].Hash;
            Assert.Equal(expected, await node.GetBlockHashAsync(number));
        }

        // The sync went over devp2p: no JSON-RPC peer was configured, and the only devp2p peer is the ethereumjs client.
        var peer = Assert.Single(status.GetProperty("devp2p").GetProperty("peers").EnumerateArray());
        Assert.StartsWith("EthereumJS/0.10.5", peer.GetProperty("client").GetString(), StringComparison.Ordinal);
        Assert.Equal(68, peer.GetProperty("eth").GetInt32());
        Assert.All(status.GetProperty("peers").EnumerateArray(), p => Assert.Equal("devp2p", p.GetProperty("transport").GetString()));
    }

    /// <summary>The enode ethereumjs reports, with the host and port it actually listens on (127.0.0.1, --port).</summary>
    private static string Loopback(string enode, int port)
    {
        var id = EnodeId().Match(enode);
        Assert.True(id.Success, $"not an enode URL: {enode}");
        return $"enode://{id.Groups[1].Value}@127.0.0.1:{port}";
    }

    [GeneratedRegex("^enode://([0-9a-fA-F]{128})@")]
    private static partial Regex EnodeId();

    [GeneratedRegex("enode://[0-9a-f]{128}@[0-9.]+:[0-9]+")]
    private static partial Regex EnodePattern();
}
