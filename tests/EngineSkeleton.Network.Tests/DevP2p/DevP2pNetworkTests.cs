using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>Two of our networks over loopback: one dials the other as a static node, both sync from each other.</summary>
public sealed class DevP2pNetworkTests
{
    private static readonly TimeSpan Hang = RawEthPeer.Hang;

    [Theory]
    [InlineData(69)]
    [InlineData(68)]
    public async Task Two_nodes_join_with_the_highest_shared_version_and_serve_headers_and_bodies(int forcedVersion)
    {
        var time = new FakeTimeProvider();
        var versions = forcedVersion == 68 ? new[] { 68 } : new[] { 69, 68 };
        await using var server = new TestNode(new MemoryEthChain(50), time);
        await server.Network.StartAsync(CancellationToken.None);
        await using var client = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { StaticNodes = [server.Network.Self], EthVersions = versions });
        await client.Network.StartAsync(CancellationToken.None);

        var peer = await client.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        var back = await server.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Equal(server.Key.Id.ToShortString(), peer.Id);
        Assert.Equal(client.Key.Id.ToShortString(), back.Id);
        Assert.Equal(forcedVersion, Assert.Single(client.Network.Peers).EthVersion);
        var info = Assert.Single(server.Network.Peers);
        Assert.Equal(forcedVersion, info.EthVersion);
        Assert.True(info.Inbound);
        Assert.Equal(forcedVersion == 69 ? 10UL : null, info.Latest);

        var headers = await peer.GetHeadersReverseAsync(50, 20, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(Enumerable.Range(31, 20).Reverse().Select(n => ExecutionApisChain.At((ulong)n).Header), headers);

        var byHash = await peer.GetHeaderByHashAsync(ExecutionApisChain.At(42).Hash, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(ExecutionApisChain.At(42).Header, byHash);
        Assert.Null(await peer.GetHeaderByHashAsync(default, CancellationToken.None).WaitAsync(Hang));

        var hashes = Enumerable.Range(1, 50).Select(n => ExecutionApisChain.At((ulong)n).Hash).ToArray();
        var bodies = await peer.GetBodiesAsync(hashes, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(Enumerable.Range(1, 50).Select(n => (BlockBody?)ExecutionApisChain.At((ulong)n).Body), bodies);

        // And the other way: the server asks the client, which holds 10 blocks.
        var fromClient = await back.GetHeadersReverseAsync(10, 64, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(11, fromClient.Count);
        Assert.Equal(ExecutionApisChain.At(10).Header, fromClient[0]);
    }

    [Fact]
    public async Task Eth69_range_below_the_origin_answers_empty_without_asking()
    {
        var time = new FakeTimeProvider();
        await using var server = new TestNode(new MemoryEthChain(10), time);
        await server.Network.StartAsync(CancellationToken.None);
        await using var client = new TestNode(new MemoryEthChain(5), time, new DevP2pOptions { StaticNodes = [server.Network.Self] });
        await client.Network.StartAsync(CancellationToken.None);
        var peer = await client.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);

        Assert.Empty(await peer.GetHeadersReverseAsync(11, 5, CancellationToken.None).WaitAsync(Hang));
        Assert.Equal(5, (await peer.GetHeadersReverseAsync(10, 5, CancellationToken.None).WaitAsync(Hang)).Count);
    }

    [Fact]
    public async Task Disposing_one_side_fails_the_other_sides_calls_with_PeerException_and_reports_Left()
    {
        var time = new FakeTimeProvider();
        var server = new TestNode(new MemoryEthChain(10), time);
        await server.Network.StartAsync(CancellationToken.None);
        await using var client = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { StaticNodes = [server.Network.Self] });
        await client.Network.StartAsync(CancellationToken.None);
        var peer = await client.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);

        await server.DisposeAsync();
        var (left, reason) = await client.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Same(peer, left);
        Assert.Contains("ClientQuitting", reason, StringComparison.Ordinal);
        var e = await Assert.ThrowsAsync<PeerException>(() => peer.GetHeadersReverseAsync(5, 5, CancellationToken.None).WaitAsync(Hang));
        Assert.Contains("ClientQuitting", e.Message, StringComparison.Ordinal);
        Assert.Empty(client.Network.Peers);
    }

    [Fact]
    public async Task A_second_connection_from_a_connected_node_is_refused_and_the_first_stays()
    {
        var time = new FakeTimeProvider();
        await using var server = new TestNode(new MemoryEthChain(10), time);
        await server.Network.StartAsync(CancellationToken.None);
        await using var client = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { StaticNodes = [server.Network.Self] });
        await client.Network.StartAsync(CancellationToken.None);
        await client.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);

        var joined = await client.Network.DialAsync(server.Network.Self, CancellationToken.None).WaitAsync(Hang);
        Assert.False(joined);
        Assert.Single(server.Network.Peers);
        Assert.Single(client.Network.Peers);
    }
}
