using System.Text.Json;
using System.Text.RegularExpressions;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Testing.Chains;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): discv4 against @ethereumjs/devp2p 10's DPT. Three ethereumjs nodes, each an
/// RLPx peer serving the execution-apis chain (devp2p-peer.mjs) and a DPT under the same key (dpt-peer.mjs), know
/// each other in a chain: A was bootstrapped from B, B from C. Our node, given only A as a bootnode, finds B and C
/// through A's Neighbors, dials them over RLPx and syncs the chain to VALID. Then a fourth DPT, given only our node,
/// finds A, B and C through us. Everything on 127.0.0.1; our node's genesis is custom, so it has no built-in
/// bootnodes or DNS lists.
/// </summary>
/// <remarks>The chain stops at block 50, as in <see cref="DevP2pInteropTests"/> (ethereumjs' fork table ends at BPO1).</remarks>
[Trait("Category", "EndToEnd")]
public sealed partial class DiscoveryInteropTests(ITestOutputHelper output)
{
    private const int Head = 50;

    private static readonly TimeSpan Start = TimeSpan.FromSeconds(90);

    /// <summary>Discovery, dials and the sync of 50 blocks from three peers.</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(3);

    private static string Genesis => Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "genesis.json");

    private static string ChainFile => Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "chain.rlp");

    [Fact(DisplayName = "Given only one @ethereumjs/devp2p node as bootnode, our node finds the others through discv4, dials them and syncs to VALID; an ethereumjs DPT given only our node finds them through us")]
    public async Task Our_node_finds_ethereumjs_nodes_through_discv4_and_they_find_each_other_through_us()
    {
        var tooling = await NodeTooling.EnsureInstalledAsync();
        await using var pairs = new Pairs();
        var c = await pairs.StartAsync(tooling, "c", bootnode: null);
        var b = await pairs.StartAsync(tooling, "b", bootnode: c);
        await b.Dpt.WaitForPeerAsync(c.Dpt.Id, Start);
        var a = await pairs.StartAsync(tooling, "a", bootnode: b);
        await a.Dpt.WaitForPeerAsync(b.Dpt.Id, Start);

        await using var node = await EngineSkeletonNode.StartAsync(Genesis, ["--nodiscover=false", "--bootnodes", a.Dpt.Enode]);
        var self = EnodePattern().Match(await node.Process.WaitForLineAsync(l => l.Contains("Started P2P networking", StringComparison.Ordinal), Start)).Value;
        output.WriteLine($"our enode {self}; a {a.Dpt.Enode}; b {b.Dpt.Enode}; c {c.Dpt.Enode}");

        // B and C never dial anyone (devp2p-peer.mjs dials only what --dial names): their Status exchange is our dial.
        await b.Rlpx.WaitForEventAsync("status", SyncBound);
        await c.Rlpx.WaitForEventAsync("status", SyncBound);
        var head = ExecutionApisChain.At(Head).Header.Hash.ToString();
        using var deadline = new CancellationTokenSource(SyncBound);
        var answer = "";
        while (!deadline.IsCancellationRequested && (answer = await node.ForkchoiceUpdatedAsync(head)) != "VALID")
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
        }
        Assert.True(answer == "VALID", $"not VALID within {SyncBound} (last {answer}): {await node.RpcAsync("skeleton_status", [])}\n{node.Process.Diagnostics()}");
        Assert.Equal(ExecutionApisChain.At(Head).Header.Hash.ToString(), await node.GetBlockHashAsync(Head));

        var peers = await node.RpcAsync("admin_peers", []);
        output.WriteLine(peers.ToString());
        Assert.Equal("discv4", FoundBy(peers, b.Dpt.Id));
        Assert.Equal("discv4", FoundBy(peers, c.Dpt.Id));
        var info = await node.RpcAsync("admin_nodeInfo", []);
        Assert.True(info.GetProperty("discovery").GetProperty("tableSize").GetInt32() >= 3, info.ToString());

        // The other direction: a DPT that knows only our node learns the three from our Neighbors.
        using var dKey = NodeKey.Generate();
        await using var d = await EthereumJsDptNode.StartAsync(tooling, "ethjs-dpt-d", Convert.ToHexStringLower(dKey.ExportPrivateKey()), 0, [self], Start);
        foreach (var pair in new[] { a, b, c })
        {
            await d.WaitForPeerAsync(pair.Dpt.Id, SyncBound);
        }
    }

    private static string? FoundBy(JsonElement peers, string id) =>
        peers.EnumerateArray().Where(p => id.StartsWith(p.GetProperty("id").GetString()!, StringComparison.Ordinal))
            .Select(p => p.GetProperty("foundBy").GetString()).FirstOrDefault();

    [GeneratedRegex("enode://[0-9a-f]{128}@[0-9.]+:[0-9]+")]
    private static partial Regex EnodePattern();

    /// <summary>An ethereumjs node: an RLPx peer serving the chain and a DPT under the same key.</summary>
    private sealed record Pair(EthereumJsDevP2pPeer Rlpx, EthereumJsDptNode Dpt);

    private sealed class Pairs : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _started = [];

        public async Task<Pair> StartAsync(NodeTooling tooling, string name, Pair? bootnode)
        {
            using var key = NodeKey.Generate();
            var hex = Convert.ToHexStringLower(key.ExportPrivateKey());
            var rlpx = await EthereumJsDevP2pPeer.StartAsync(tooling, $"ethjs-rlpx-{name}", [.. EthereumJsDevP2pPeer.Serving(Genesis, ChainFile, Head), "--key", hex], Start);
            _started.Add(rlpx);
            var tcpPort = int.Parse(rlpx.Enode[(rlpx.Enode.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            var dpt = await EthereumJsDptNode.StartAsync(tooling, $"ethjs-dpt-{name}", hex, tcpPort, bootnode is null ? [] : [bootnode.Dpt.Enode], Start);
            _started.Add(dpt);
            return new Pair(rlpx, dpt);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var started in Enumerable.Reverse(_started))
            {
                await started.DisposeAsync();
            }
        }
    }
}
