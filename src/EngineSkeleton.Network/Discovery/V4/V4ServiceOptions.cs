using System.Net;

namespace EngineSkeleton.Network.Discovery.V4;

/// <summary>How the discv4 service binds, waits and bounds itself; each default with its source.</summary>
internal sealed record V4ServiceOptions
{
    /// <summary>The address the UDP socket binds: the devp2p listener's (--p2p.addr).</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>--discovery.port: 30303 by default, as --port; 0 takes any free port.</summary>
    public int Port { get; init; } = 30303;

    /// <summary>The address written in our record and our Pings' <c>from</c>: --nat extip, else the bound one (0.0.0.0 → 127.0.0.1).</summary>
    public IPAddress? ExternalIp { get; init; }

    /// <summary>How long we wait for a reply to our Ping, FindNode or ENRRequest: geth's respTimeout, 500 ms.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long an endpoint proof (a Pong from that address) stands: geth's bondExpiration, 24 h.</summary>
    public TimeSpan BondExpiration { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often one node of the table is pinged to check it is alive: 10 s (geth's revalidation picks a node about
    /// every 10 s at random; a node that does not answer leaves its bucket for the newest replacement).
    /// </summary>
    public TimeSpan RevalidateInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Requests of ours waiting for a reply, all kinds together: 512. Past it new requests fail at once; it bounds
    /// what a flood of Pings (each asking for a Ping back) can make us hold.
    /// </summary>
    public int MaxPendingReplies { get; init; } = 512;

    /// <summary>
    /// Endpoint proofs remembered (who answered our Ping, who pinged us): 10,000 each, oldest dropped first. geth
    /// keeps them in its node database without a bound; a flood from fresh keys must not grow ours without one.
    /// </summary>
    public int MaxBonds { get; init; } = 10_000;

    /// <summary>Ping-backs to nodes that pinged us first, in flight at once: 32. More pings are answered, not bonded back.</summary>
    public int MaxInboundBonds { get; init; } = 32;

    /// <summary>Nodes asked at once in a lookup: Kademlia's alpha, 3 (geth's alpha).</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>Rounds of one lookup at most: 32. A lookup converges in a handful; the bound stops one fed endless fresh ids.</summary>
    public int MaxLookupRounds { get; init; } = 32;
}
