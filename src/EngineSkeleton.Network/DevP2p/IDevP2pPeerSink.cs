using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// Where eth peers go once their Status is accepted, and what hears of them leaving: the host's peer set. Called
/// from the network's connection tasks; <see cref="Left"/> follows <see cref="Joined"/> exactly once per peer.
/// </summary>
public interface IDevP2pPeerSink
{
    void Joined(ISyncPeer peer);

    /// <param name="peer">The peer <see cref="Joined"/> gave; every call on it now throws <see cref="PeerException"/>.</param>
    /// <param name="reason">Why, in words (e.g. "disconnected by peer: TooManyPeers", "timed out: no message for 30 s").</param>
    void Left(ISyncPeer peer, string reason);
}
