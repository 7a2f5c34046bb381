using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Server.Hosting;

/// <summary>
/// Where devp2p peers meet the sync engine: a peer whose Status we accepted joins the peer set the skeleton and the
/// backfiller share, as a <c>--sync.rpc</c> peer does at startup; a peer that disconnected leaves it, so nothing is asked
/// of a closed connection.
/// </summary>
internal sealed class SyncPeerSink(SkeletonSync skeleton, PeerSet peers, EngineSkeleton.Server.Observability.NodeMetrics? metrics = null) : IDevP2pPeerSink
{
    public void Joined(ISyncPeer peer) =>
        skeleton.AddPeer(metrics is null ? peer : new EngineSkeleton.Server.Observability.MeasuredSyncPeer(peer, EngineSkeleton.Server.Observability.MeasuredSyncPeer.DevP2p, metrics));

    public void Left(ISyncPeer peer, string reason) => peers.Remove(peer);
}
