using System.Text.Json;
using EngineSkeleton.Server.Tests.Support;

namespace EngineSkeleton.Server.Tests.Eth;

/// <summary>admin_nodeInfo and admin_peers over HTTP, and three nodes that find each other through discv4 on 127.0.0.1.</summary>
public sealed class AdminRpcTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Polls are bounded: 1,500 × 100 ms. A first dial can collide with the other side's (each refuses the other as already connected); the retry comes after the 30–36 s backoff, and this leaves room for two.</summary>
    private const int Polls = 1500;

    [Fact]
    public async Task A_node_as_the_suite_starts_it_shows_its_enode_and_record_with_discovery_off()
    {
        await using var node = await TestNode.StartAsync().WaitAsync(Bound);

        var info = (await node.Public("admin_nodeInfo").WaitAsync(Bound)).Result();
        var peers = (await node.Public("admin_peers").WaitAsync(Bound)).Result();

        Assert.StartsWith("enode://", info.GetProperty("enode").GetString(), StringComparison.Ordinal);
        Assert.EndsWith($"@127.0.0.1:{node.Host.DevP2p.Self.TcpPort}", info.GetProperty("enode").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("enr:", info.GetProperty("enr").GetString(), StringComparison.Ordinal);
        Assert.Equal(64, info.GetProperty("id").GetString()!.Length);
        Assert.False(info.GetProperty("discovery").GetProperty("enabled").GetBoolean());
        Assert.Equal(0, info.GetProperty("ports").GetProperty("discovery").GetInt32());
        Assert.Equal(0, peers.GetArrayLength());
    }

    [Fact]
    public async Task Nodes_that_know_only_one_bootnode_find_and_dial_each_other_through_discv4()
    {
        // A custom genesis has no built-in bootnodes or DNS lists: with discovery on, these nodes know only what
        // they are given, all of it on 127.0.0.1.
        await using var a = await TestNode.StartAsync("--nodiscover=false").WaitAsync(Bound);
        var aInfo = (await a.Public("admin_nodeInfo").WaitAsync(Bound)).Result();
        var aEnode = aInfo.GetProperty("enode").GetString()!;
        Assert.True(aInfo.GetProperty("discovery").GetProperty("enabled").GetBoolean());
        Assert.Equal(a.Host.DevP2p.Self.TcpPort, aInfo.GetProperty("ports").GetProperty("discovery").GetInt32());

        await using var b = await TestNode.StartAsync("--nodiscover=false", "--bootnodes", aEnode).WaitAsync(Bound);
        await UntilAsync(a, "admin_nodeInfo", info => info.GetProperty("discovery").GetProperty("tableSize").GetInt32() >= 1);
        await using var c = await TestNode.StartAsync("--nodiscover=false", "--bootnodes", aEnode).WaitAsync(Bound);

        var bId = ShortId(b.Host.DevP2p.Self.ToString());
        var cId = ShortId(c.Host.DevP2p.Self.ToString());
        var cPeers = await UntilAsync(c, "admin_peers", peers => peers.EnumerateArray().Any(p => p.GetProperty("id").GetString() == bId));
        var bPeers = (await b.Public("admin_peers").WaitAsync(Bound)).Result();

        // One of the two dialed the other, having found it through a's table: that side says discv4, the other inbound.
        var cSays = FoundBy(cPeers, bId);
        var bSays = FoundBy(bPeers, cId);
        Assert.True((cSays, bSays) is ("discv4", "inbound") or ("inbound", "discv4"), $"c says {cSays}, b says {bSays}");
        Assert.Equal("static", FoundBy(cPeers, ShortId(aEnode)));
        var cInfo = (await c.Public("admin_nodeInfo").WaitAsync(Bound)).Result();
        Assert.True(cInfo.GetProperty("discovery").GetProperty("tableSize").GetInt32() >= 2);
    }

    private static string ShortId(string enode) => enode["enode://".Length..("enode://".Length + 16)];

    private static string? FoundBy(JsonElement peers, string id) =>
        peers.EnumerateArray().Where(p => p.GetProperty("id").GetString() == id).Select(p => p.GetProperty("foundBy").GetString()).FirstOrDefault();

    private static async Task<JsonElement> UntilAsync(TestNode node, string method, Func<JsonElement, bool> done)
    {
        for (var i = 0; i < Polls; i++)
        {
            var result = (await node.Public(method).WaitAsync(Bound)).Result();
            if (done(result))
            {
                return result;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{method} did not reach the expected state in {Polls} polls");
    }
}
