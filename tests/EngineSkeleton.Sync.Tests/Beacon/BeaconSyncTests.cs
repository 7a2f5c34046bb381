using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Sync.Tests.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Sync.Tests.Beacon;

/// <summary>What <see cref="BeaconSync.Status"/> (skeleton_status) reports.</summary>
public sealed class BeaconSyncTests
{
    [Fact(DisplayName = "Peers in the status are the peer set as it is now: bodies served and drops by the backfiller show without a skeleton event")]
    public async Task Status_shows_the_peer_set_as_it_is_now()
    {
        using var store = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(TimeProvider.System);
        var headers = GeneratedChain.Headers(4);
        var good = new InProcessPeer("good", headers);
        var bad = new InProcessPeer("bad", headers);
        await using var skeleton = new SkeletonSync(store, peers, new IdleBackfiller(), new CanonicalMap(headers[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        var sync = new BeaconSync(skeleton, peers, _ => null);
        skeleton.AddPeer(good);
        skeleton.AddPeer(bad);

        // What the backfiller does, outside the skeleton loop (which is not even running here).
        peers.Update(good, 3, TimeSpan.FromMilliseconds(20), RateKind.Bodies);
        peers.Drop(bad, "served bodies that do not match their headers");

        var status = sync.Status().Peers!.ToDictionary(p => p.Id);
        Assert.Equal(3UL, status["good"].ServedBodies);
        Assert.Equal("served bodies that do not match their headers", status["bad"].DropReason);
    }

    [Theory(DisplayName = "The announced finalized hash is recorded by its number when the head is it, the chain holds it or a payload brought it; not otherwise")]
    [InlineData("the head itself", "head", 20UL)]
    [InlineData("a payload newPayload brought (geth's remoteBlocks)", "payload", 12UL)]
    [InlineData("a block the chain holds", "chain", 0UL)]
    [InlineData("a hash nothing knows", "unknown", null)]
    public async Task The_finalized_number_is_resolved_from(string because, string which, ulong? expected)
    {
        using var store = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(TimeProvider.System);
        var headers = GeneratedChain.Headers(21);
        var watch = new SnapshotWatch();
        await using var skeleton = new SkeletonSync(store, peers, new IdleBackfiller(), new CanonicalMap(headers[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance)
        {
            AfterEvent = watch.Observe,
        };
        var sync = new BeaconSync(skeleton, peers, h => h == headers[0].Hash ? 0UL : null, payloadNumberOf: h => h == headers[12].Hash ? 12UL : null);
        skeleton.Start();
        var finalized = which switch
        {
            "head" => headers[20].Hash,
            "payload" => headers[12].Hash,
            "chain" => headers[0].Hash,
            _ => GeneratedChain.Headers(2, seed: 9)[1].Hash,
        };

        await sync.SyncAsync(headers[20], finalized, force: true).WaitAsync(TimeSpan.FromSeconds(60));
        // The loop answers a forced head before its cycle writes the progress: wait for the cycle's.
        await watch.Until(s => s.Progress?.Subchains is [{ Head: 20 }]).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(watch.Last.Progress?.Finalized == expected, because);
        Assert.True(store.LoadProgress()?.Finalized == expected, because);
    }
}
