using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Sync.Tests.Peers;

/// <summary>A configured peer comes back after a drop, later for a lie than for a timeout; a found peer never does.</summary>
public sealed class PeerReadmissionTests
{
    private static readonly IReadOnlyList<Core.Blocks.BlockHeader> Chain = GeneratedChain.Headers(10);

    public static TheoryData<string, DropCause, int, double> Waits => new()
    {
        { "a first timeout benches the peer for 30 s, as geth re-dials a static peer", DropCause.Unresponsive, 1, 30 },
        { "timeouts in a row double the wait", DropCause.Unresponsive, 3, 120 },
        { "a peer that keeps timing out is tried every 5 minutes", DropCause.Unresponsive, 50, 300 },
        { "a first lie benches it for 10 minutes", DropCause.Misbehaved, 1, 600 },
        { "lies in a row double the wait", DropCause.Misbehaved, 2, 1_200 },
        { "a peer that keeps lying is tried once an hour", DropCause.Misbehaved, 50, 3_600 },
    };

    [Theory]
    [MemberData(nameof(Waits))]
    public void Waits_double_from_a_first_wait_by_cause_up_to_a_cap(string because, DropCause cause, int drops, double seconds) =>
        Assert.True(PeerSet.ReadmitAfter(cause, drops) == TimeSpan.FromSeconds(seconds), because);

    [Fact]
    public void A_configured_peer_is_back_idle_after_its_wait_and_a_second_drop_waits_twice_as_long()
    {
        var time = new FakeTimeProvider();
        var peers = new PeerSet(time);
        var peer = new InProcessPeer("configured", Chain);
        var back = 0;
        peers.Readmitted += _ => back++;
        Assert.True(peers.AddConfigured(peer));

        Assert.True(peers.Drop(peer, "no answer within 6 s", DropCause.Unresponsive));
        Assert.Empty(peers.IdlePeersFastestFirst());
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(30), peers.Status()[0].ReadmitAt);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, back);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, back);
        Assert.Same(peer, Assert.Single(peers.IdlePeersFastestFirst()));
        Assert.Null(peers.Status()[0].ReadmitAt);

        // Dropped again before it served anything: the wait doubles.
        Assert.True(peers.Drop(peer, "no answer within 6 s", DropCause.Unresponsive));
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), peers.Status()[0].ReadmitAt);
    }

    [Fact]
    public void A_peer_found_by_the_node_is_not_readmitted_and_a_removed_configured_one_is_not_either()
    {
        var time = new FakeTimeProvider();
        var peers = new PeerSet(time);
        var found = new InProcessPeer("found", Chain);
        var configured = new InProcessPeer("configured", Chain);
        peers.Add(found);
        peers.AddConfigured(configured);

        peers.Drop(found, "headers do not link", DropCause.Misbehaved);
        peers.Drop(configured, "headers do not link", DropCause.Misbehaved);
        peers.Remove(configured);
        time.Advance(TimeSpan.FromHours(2));

        Assert.Empty(peers.IdlePeersFastestFirst());
        Assert.Null(Assert.Single(peers.Status()).ReadmitAt);
    }
}
