namespace EngineSkeleton.Network.DevP2p;

/// <summary>One connected eth peer as status pages show it.</summary>
/// <param name="Id">The node id, short form (the <c>ISyncPeer.Id</c>).</param>
/// <param name="ClientId">What its Hello says it runs.</param>
/// <param name="EthVersion">The eth version negotiated: 68 or 69.</param>
/// <param name="RemoteAddress">Its IP endpoint as the socket sees it.</param>
/// <param name="Inbound">True if it dialed us.</param>
/// <param name="Earliest">eth/69: the lowest block whose body it serves; null on eth/68.</param>
/// <param name="Latest">eth/69: its latest block; null on eth/68.</param>
public sealed record DevP2pPeerInfo(string Id, string ClientId, int EthVersion, string RemoteAddress, bool Inbound, ulong? Earliest, ulong? Latest);
