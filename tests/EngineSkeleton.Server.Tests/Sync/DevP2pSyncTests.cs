using System.Text.Json;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// Two of our nodes over devp2p on loopback, speaking eth/69 (no other eth/69 implementation runs here; the
/// ethereumjs interop in the end-to-end suite is eth/68): one holds the execution-apis chain and serves it, the other,
/// given only its enode by --bootnodes, is told forkchoiceUpdated(54), skeleton-syncs and backfills over RLPx, and
/// answers VALID with every hash the chain's.
/// </summary>
public sealed class DevP2pSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_node_given_only_another_nodes_enode_syncs_the_chain_from_it_over_eth69_to_VALID()
    {
        await using var server = await TestNode.StartAsync();
        server.SeedThrough(54);
        var enode = server.Host.DevP2p.Self.ToString();
        await using var node = await TestNode.StartAsync("--bootnodes", enode);
        var head = ExecutionApisChain.At(54).Header;

        // As a beacon node does each slot: forkchoiceUpdated(head) until it answers VALID, bounded. The first calls may
        // come before the dial to the server has finished its handshake, and then only announce the hash.
        using var deadline = new CancellationTokenSource(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);
        while (last.FcuStatus() != "VALID" && !deadline.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
            last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);
        }

        Assert.True(last.FcuStatus() == "VALID", $"not VALID within {Bound}: {last}\n{(await node.Public("skeleton_status")).Result()}");
        for (ulong n = 0; n <= 54; n++)
        {
            var block = (await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), false)).Result();
            Assert.True(
                block.ValueKind == JsonValueKind.Object && block.GetProperty("hash").GetString() == ExecutionApisChain.At(n).Header.Hash.ToString(),
                $"block {n} is {block}");
        }

        var status = (await node.Public("skeleton_status")).Result();
        var devp2p = status.GetProperty("devp2p");
        Assert.StartsWith("enode://", devp2p.GetProperty("enode").GetString(), StringComparison.Ordinal);
        var peer = Assert.Single(devp2p.GetProperty("peers").EnumerateArray());
        Assert.Equal(69, peer.GetProperty("eth").GetInt32());
        Assert.False(peer.GetProperty("inbound").GetBoolean());
        Assert.StartsWith("EngineSkeleton/", peer.GetProperty("client").GetString(), StringComparison.Ordinal);
        var synced = Assert.Single(status.GetProperty("peers").EnumerateArray(), p => p.GetProperty("transport").GetString() == "devp2p");
        Assert.True(synced.GetProperty("servedBodies").GetUInt64() == 54 && synced.GetProperty("servedHeaders").GetUInt64() > 0, $"every body and the skeleton came over devp2p: {synced}");
        Assert.Equal(3, synced.GetProperty("maxRequests").GetInt32()); // an eth peer pipelines three requests
        Assert.Equal(0, synced.GetProperty("requests").GetInt32()); // synced: none out

        var served = (await server.Public("skeleton_status")).Result().GetProperty("devp2p").GetProperty("peers");
        Assert.True(Assert.Single(served.EnumerateArray()).GetProperty("inbound").GetBoolean());
    }
}
