using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Sync.Peers;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>
/// A devp2p peer the sync drops (PeerSet.Drop: a body that breaks its header, headers that do not link to ours, a
/// stall) is hung up on at the devp2p level, as geth's handler.removePeer does: Disconnect(useless peer, 0x03) on the
/// wire, the session closed on our side (Left), and the node not dialed again for a while. Before, the drop only
/// benched it in the peer set while the RLPx session stayed up, pinged and answered.
/// </summary>
public sealed class DevP2pDropTests
{
    private static readonly TimeSpan Hang = RawEthPeer.Hang;

    [Theory]
    [InlineData(DropCause.Misbehaved)]
    [InlineData(DropCause.Unresponsive)]
    public async Task A_peer_the_peer_set_drops_gets_Disconnect_UselessPeer_leaves_and_is_not_redialed_at_once(DropCause cause)
    {
        var time = new FakeTimeProvider();
        await using var server = new TestNode(new MemoryEthChain(10), time);
        await server.Network.StartAsync(CancellationToken.None);
        await using var client = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { StaticNodes = [server.Network.Self] });
        await client.Network.StartAsync(CancellationToken.None);
        var peer = await client.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        await server.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        var peers = new PeerSet(time);
        Assert.True(peers.Add(peer));

        Assert.True(peers.Drop(peer, "served bodies that do not match their headers", cause));

        // The far side read our Disconnect and its reason: useless peer, 0x03.
        var (_, heard) = await server.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Equal($"disconnected by peer: {DisconnectReason.UselessPeer}", heard);
        Assert.Equal(0x03, (int)DisconnectReason.UselessPeer);
        // Our side closed the session, saying why, and will not dial it back before the penalty is over.
        var (left, reason) = await client.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Same(peer, left);
        Assert.Contains("dropped by the sync", reason, StringComparison.Ordinal);
        Assert.Contains("served bodies that do not match their headers", reason, StringComparison.Ordinal);
        Assert.NotNull(client.Network.PenaltyLeft(server.Key.Id));
        Assert.Empty(client.Network.Peers);
        await Assert.ThrowsAsync<PeerException>(() => peer.GetHeadersReverseAsync(10, 1, CancellationToken.None).WaitAsync(Hang));
    }

    [Fact]
    public async Task A_second_drop_of_the_same_peer_changes_nothing()
    {
        var time = new FakeTimeProvider();
        await using var server = new TestNode(new MemoryEthChain(10), time);
        await server.Network.StartAsync(CancellationToken.None);
        await using var client = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { StaticNodes = [server.Network.Self] });
        await client.Network.StartAsync(CancellationToken.None);
        var peer = await client.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        var peers = new PeerSet(time);
        peers.Add(peer);

        Assert.True(peers.Drop(peer, "first"));
        Assert.False(peers.Drop(peer, "second"));

        var (_, reason) = await client.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Contains("first", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("second", reason, StringComparison.Ordinal);
    }
}
