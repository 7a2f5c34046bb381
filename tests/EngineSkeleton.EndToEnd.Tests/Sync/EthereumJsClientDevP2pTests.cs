using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): the scenario of <see cref="RpcPeerSyncTests"/> over devp2p. The only
/// source is a full <c>@ethereumjs/client</c> 0.10.5 node holding the Prague chain, and our server is given only its
/// enode (<c>--bootnodes</c>, no <c>--sync.rpc</c>). Told only the head by Lodestar's engine client, our node answers
/// SYNCING, skeleton-syncs the headers and backfills the bodies over RLPx (eth/68: ethereumjs has no eth/69), and
/// then answers VALID with every hash equal to the chain's. And the reverse: a fresh ethereumjs client whose only peer
/// is our node beacon-syncs the chain from us.
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

    /// <summary>How long our node may take to have its bootnodes as peers: a dial and two handshakes each, a redial or two at most.</summary>
    private static readonly TimeSpan PeerBound = TimeSpan.FromSeconds(60);

    [Fact(DisplayName = "Given only --bootnodes of an @ethereumjs/client source, our node syncs the head Lodestar names over devp2p and ends VALID with the chain's hashes")]
    public async Task Our_node_syncs_from_an_ethereumjs_client_over_devp2p_and_answers_VALID()
    {
        var chain = fixture.Chain;
        var head = chain.Head.Number;

        // A source that accepts peers: a fresh ethereumjs node, the chain replayed into it by Lodestar.
        await using var source = await EthereumJsNode.StartAsync(fixture.Tooling, "devp2p-source", chain.GenesisFile, peering: new EthereumJsPeering(MaxPeers: 4));
        var replay = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(source.EngineUrl, source.JwtSecretFile, chain.ChainFile));
        Assert.All(replay.Calls.Where(c => c.Call is "newPayload" or "forkchoiceUpdated"), c => Assert.True(c.Status == "VALID", $"replaying the chain into the ethereumjs source: {c}"));
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

    /// <summary>
    /// The other direction: a fresh ethereumjs client whose only peer is our node (synced over devp2p from another
    /// ethereumjs, which is then stopped) beacon-syncs the chain from us and ends on the same head with every hash equal.
    /// </summary>
    /// <remarks>
    /// ethereumjs beacon-syncs only toward a head stamped in the future or within the last minute, so this test builds
    /// its own chain with the genesis moved ahead of the clock, as the side-by-side benchmark does.
    /// </remarks>
    [Fact(DisplayName = "A fresh @ethereumjs/client whose only peer is our node beacon-syncs the chain from us over devp2p and ends on the same head")]
    public async Task An_ethereumjs_client_beacon_syncs_the_chain_from_our_node_over_devp2p()
    {
        const int blocks = 64;
        const int blockTime = 12;
        var tooling = fixture.Tooling;
        var work = Directory.CreateTempSubdirectory("engineskeleton-ethjs-from-us-").FullName;
        try
        {
            // ~1 s a block to build, then two syncs: keep the head ahead of the clock until the end.
            var margin = TimeSpan.FromSeconds((blocks * 1.5) + 600);
            var genesisFile = Path.Combine(work, "genesis.json");
            var genesis = JsonNode.Parse(await File.ReadAllTextAsync(tooling.Script("genesis.json")))!;
            var genesisTime = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() - (blocks * blockTime) + (long)margin.TotalSeconds;
            genesis["timestamp"] = "0x" + genesisTime.ToString("x", CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(genesisFile, genesis.ToJsonString());

            var source = await EthereumJsNode.StartAsync(tooling, "devp2p-builder", genesisFile, peering: new EthereumJsPeering(MaxPeers: 4));
            EthereumJsNode? replica = null;
            EngineSkeletonNode? node = null;
            BuiltChain chain;
            try
            {
                chain = await ChainBuilder.BuildAsync(tooling, source, blocks, Path.Combine(work, "chain.json"), TimeSpan.FromSeconds(60 + (blocks * 4)));
                output.WriteLine($"chain: {blocks} blocks built in {chain.Summary!.WallClock.TotalSeconds:F0} s; head stamped {chain.Head.Timestamp - TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()} s ahead of now");

                // ethereumjs reaches a --bootnodes entry only through a discv4 ping (DPT.bootstrap), which our node does
                // not answer (no discovery yet), so our node dials the replica instead. The replica's own bootnode is a
                // closed port: it only keeps it out of single-node mode, so that it beacon-syncs from a peer.
                replica = await EthereumJsNode.StartAsync(tooling, "replica-of-ours", genesisFile, peering: new EthereumJsPeering(MaxPeers: 4, Bootnode: $"enode://{new string('a', 128)}@127.0.0.1:{FreePort.Next()}"));
                var replicaEnode = Loopback(await replica.GetEnodeAsync(), replica.P2pPort);
                var sourceEnode = Loopback(await source.GetEnodeAsync(), source.P2pPort);
                // Debug: a failure's diagnostics then show every dial, refusal and disconnect of our devp2p network.
                node = await EngineSkeletonNode.StartAsync(chain.GenesisFile, ["--verbosity", "debug", "--bootnodes", sourceEnode + "," + replicaEnode]);
                output.WriteLine($"builder {sourceEnode}, replica {replicaEnode}");
                await WaitForDevP2pPeersAsync(node, [sourceEnode, replicaEnode], source, replica);
                await SyncOursAsync(node, chain, source);
            }
            catch
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }

                if (replica is not null)
                {
                    await replica.DisposeAsync();
                }

                throw;
            }
            finally
            {
                // Stopped once our node has the chain: from here on our node is the only one that holds it.
                await source.DisposeAsync();
            }

            await using (node)
            await using (replica)
            {
                using (var peered = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
                {
                    // Cross-process: the peer count is only seen by asking; bounded by the deadline.
                    while (RpcClient.ParseQuantity((await replica.RpcAsync("net_peerCount", [])).GetString()) < 1 && !peered.IsCancellationRequested)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
                    }

                    Assert.True(!peered.IsCancellationRequested, $"the ethereumjs replica found no devp2p peer within a minute.\n{replica.Process.Diagnostics()}\n{node.Process.Diagnostics()}");
                }

                var started = TimeProvider.System.GetTimestamp();
                var head = chain.Head.Number;
                var drive = await LodestarDriver.DriveAsync(tooling, new DriveOptions(replica.EngineUrl, replica.JwtSecretFile, chain.ChainFile) { From = head, To = head, ForkchoiceUpdates = ForkchoiceUpdates.LastBlock });
                var forkchoice = Assert.Single(drive.ForkchoiceUpdates);
                Assert.True(forkchoice.Status is "SYNCING" or "VALID", $"forkchoiceUpdated(head) on the fresh ethereumjs: {forkchoice}");
                using (var deadline = new CancellationTokenSource(SyncBound))
                {
                    while (await replica.GetBlockNumberAsync() < head && !deadline.IsCancellationRequested)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
                    }
                }

                var status = await node.RpcAsync("skeleton_status", []);
                Assert.True(
                    await replica.GetBlockNumberAsync() >= head,
                    $"the ethereumjs replica did not reach {head} within {SyncBound}: {status}\n{replica.Process.Diagnostics()}\n{node.Process.Diagnostics()}");
                output.WriteLine($"ethereumjs beacon-synced {head} blocks from our node in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s (incl. the Lodestar driver's start)");
                output.WriteLine($"our skeleton_status: {status}");
                for (var number = 0L; number <= head; number++)
                {
                    var expected = number == 0 ? chain.GenesisHash : chain.Blocks[(int)number - 1].Hash;
                    Assert.Equal(expected, await replica.GetBlockHashAsync(number));
                }

                var peer = Assert.Single(status.GetProperty("devp2p").GetProperty("peers").EnumerateArray());
                Assert.StartsWith("EthereumJS/0.10.5", peer.GetProperty("client").GetString(), StringComparison.Ordinal);
                Assert.Equal(68, peer.GetProperty("eth").GetInt32());
            }
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("E2E_KEEP_TEMP") != "1")
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    /// <summary>
    /// Waits (bounded) until our node has every one of <paramref name="enodes"/> as an eth peer: it dials them at start,
    /// so this takes a handshake each unless one cannot be reached, which then fails here, naming it, not later as a sync
    /// that waits for peers.
    /// </summary>
    private async Task WaitForDevP2pPeersAsync(EngineSkeletonNode node, IReadOnlyList<string> enodes, params EthereumJsNode[] nodes)
    {
        var wanted = enodes.Select(e => EnodeId().Match(e).Groups[1].Value[..16].ToLowerInvariant()).ToArray();
        var started = TimeProvider.System.GetTimestamp();
        using var deadline = new CancellationTokenSource(PeerBound);
        string[] joined = [];
        // Cross-process: the peer list is only seen by asking; bounded by the deadline, each ask is cheap.
        while (!deadline.IsCancellationRequested)
        {
            var status = await node.RpcAsync("skeleton_status", []);
            joined = [.. status.GetProperty("devp2p").GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("id").GetString()!)];
            if (wanted.All(joined.Contains))
            {
                output.WriteLine($"our node had its {wanted.Length} bootnodes as eth peers after {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s");
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
        }

        Assert.Fail(
            $"our node did not have every bootnode ({string.Join(", ", wanted)}) as an eth peer within {PeerBound}; it had {string.Join(", ", joined)}.\n"
            + $"{node.Process.Diagnostics()}\n{string.Join("\n", nodes.Select(n => n.Process.Diagnostics()))}");
    }

    /// <summary>Told only the head by Lodestar, our node syncs it from <paramref name="source"/> and then answers VALID.</summary>
    private async Task SyncOursAsync(EngineSkeletonNode node, BuiltChain chain, EthereumJsNode source)
    {
        var head = chain.Head.Number;
        await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        using (var deadline = new CancellationTokenSource(SyncBound))
        {
            // Cross-process: the only way to see the sync finish is to ask; bounded by a deadline, each ask is cheap.
            while (await node.GetBlockHashAsync(head) is null && !deadline.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
            }
        }

        Assert.True(await node.GetBlockHashAsync(head) is not null, $"not synced within {SyncBound}: {await node.RpcAsync("skeleton_status", [])}\n{node.Process.Diagnostics()}\n{source.Process.Diagnostics()}");
        var again = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        Assert.All(again.ForkchoiceUpdates, c => Assert.True(c.Status == "VALID", $"forkchoiceUpdated(head) after the sync: {c}"));
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
