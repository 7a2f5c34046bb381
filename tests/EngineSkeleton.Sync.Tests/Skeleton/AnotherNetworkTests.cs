using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>
/// A head from another network (issue 13): its chain is downloaded down to the block above our genesis, whose parent
/// is another genesis. Said once, plainly, at Error with both hashes and in the status; the skeleton is kept; and the
/// sync does not spin: over a minute of virtual time, with the stall watchdog ticking, the peer is asked nothing more.
/// </summary>
public sealed class AnotherNetworkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>SkeletonSync.Log.AnotherNetwork.</summary>
    private const int AnotherNetworkEvent = 313;

    [Fact]
    public async Task A_head_of_another_network_is_reported_once_with_both_hashes_the_skeleton_kept_and_the_peer_not_asked_again()
    {
        var time = new FakeTimeProvider();
        var ours = GeneratedChain.Headers(1);
        var theirs = GeneratedChain.Headers(1_201, seed: 7, genesis: GeneratedChain.DefaultGenesis with { ExtraData = "another network"u8.ToArray() });
        Assert.NotEqual(ours[0].Hash, theirs[0].Hash);
        using var store = SkeletonStore.OpenInMemory();
        var peer = new InProcessPeer("other-network", theirs, time: time);
        var log = new ListLogger<SkeletonSync>();
        var watch = new SnapshotWatch();
        var peers = new PeerSet(time);
        await using var sync = new SkeletonSync(store, peers, new IdleBackfiller(), new CanonicalMap(ours[0]), time, log)
        {
            AfterEvent = watch.Observe,
        };
        var facade = new BeaconSync(sync, peers, _ => null);
        sync.AddPeer(peer);
        sync.Start();

        await facade.SyncAsync(theirs[1_200], default, force: true).WaitAsync(Bound);
        await watch.Until(s => s.AnotherChain is not null).WaitAsync(Bound);

        var line = Assert.Single(log.Entries, e => e.Id.Id == AnotherNetworkEvent);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains(ours[0].Hash.ToString(), line.Message, StringComparison.Ordinal);
        Assert.Contains(theirs[0].Hash.ToString(), line.Message, StringComparison.Ordinal);
        var status = facade.Status();
        Assert.Contains("another network", status.AnotherChain, StringComparison.Ordinal);
        Assert.Equal(new SubchainStatus(1_200, 1, theirs[0].Hash), Assert.Single(status.Subchains));
        for (ulong n = 1; n <= 1_200; n++)
        {
            Assert.Equal(theirs[(int)n].Hash, store.GetHeader(n)?.Hash); // kept for inspection
        }

        // A minute of virtual time, a second at a time: the watchdog ticks, the peer is not asked again.
        var asked = peer.Requests;
        for (var second = 0; second < 60; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }
        await facade.SyncAsync(theirs[1_200], default, force: true).WaitAsync(Bound); // the beacon node repeats itself
        await watch.Until(s => s.State == SyncState.Syncing && s.Progress is { Subchains: [{ Tail: 1 }] }).WaitAsync(Bound);

        Assert.Equal(asked, peer.Requests);
        Assert.Single(log.Entries, e => e.Id.Id == AnotherNetworkEvent);
        Assert.Equal(1_200UL / 512 + 1, (ulong)asked); // 1,200 headers in tasks of 512: three requests in all
    }
}
