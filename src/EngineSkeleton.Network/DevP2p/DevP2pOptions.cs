using System.Net;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// How the devp2p network listens, dials and bounds its peers; each default with its source.
/// <see cref="Validate"/> runs in <see cref="DevP2pNetwork"/>'s constructor.
/// </summary>
public sealed record DevP2pOptions
{
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>TCP port to listen on: 30303, the devp2p default; 0 takes any free port (<see cref="DevP2pNetwork.Self"/> says which).</summary>
    public int Port { get; init; } = 30303;

    /// <summary>
    /// Most peers at once: 50, geth's default (--maxpeers). Of them at most MaxPeers − MaxPeers/3 inbound
    /// (<see cref="MaxInboundPeers"/>), as geth keeps a third for its own dials (p2p/server.go, defaultDialRatio 3).
    /// </summary>
    public int MaxPeers { get; init; } = 50;

    /// <summary>--bootnodes: dialed at start and re-dialed, while not connected, with backoff (<see cref="StaticRedialMin"/>).</summary>
    public IReadOnlyList<Enode> StaticNodes { get; init; } = [];

    /// <summary>--nat extip:IP: the address advertised in <see cref="DevP2pNetwork.Self"/>.</summary>
    public IPAddress? ExternalIp { get; init; }

    /// <summary>The client id our Hello carries.</summary>
    public string ClientId { get; init; } = "EngineSkeleton/v0.1.0/dotnet10";

    /// <summary>
    /// eth versions offered, any order: 69 and 68 (geth since v1.17.1 speaks only 69; ethereumjs only 68). Tests
    /// narrow it to force one.
    /// </summary>
    public IReadOnlyList<int> EthVersions { get; init; } = [69, 68];

    /// <summary>The eth Status exchange must finish within this: geth's handshakeTimeout (eth/protocols/eth handshake.go), 5 s.</summary>
    public TimeSpan StatusTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A request of ours unanswered this long fails with <c>PeerException</c>: 30 s. A backstop only: the sync's
    /// peer set bounds each request tighter (6–60 s from the peer's round trips) and cancels it.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Ping every 15 s: geth's pingInterval (p2p/peer.go).</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A peer silent this long (not even a Pong) is dropped with PingTimeout: 30 s, geth's frameReadTimeout
    /// (p2p/rlpx), the read deadline it sets on every connection.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a dial may take to connect: 15 s, geth's defaultDialTimeout (p2p/server.go).</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// First wait before re-dialing a static node that failed or left: 5 s, doubling on each failure up to
    /// <see cref="StaticRedialMax"/>. geth re-dials static nodes about every 30 s (p2p/dial.go dialHistoryExpiration).
    /// </summary>
    public TimeSpan StaticRedialMin { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait between dials of a static node: 30 s, as geth's.</summary>
    public TimeSpan StaticRedialMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A node we disconnected for what it sent or failed to send (a Status for another chain, no eth version in common,
    /// a protocol breach, answers that do not hold together, silence past the idle timeout) is not dialed again for
    /// this long: 5 min, the ban ethereumjs's discovery gives a failing peer (dpt banPeer). A node on another chain
    /// stays on it; dialing it every 30 s, as geth does static nodes, only costs handshakes.
    /// </summary>
    public TimeSpan MisbehaviourRedial { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Requests of ours in flight per peer: 16. More wait for a slot; the sync asks one at a time per peer.</summary>
    public int MaxPendingRequests { get; init; } = 16;

    /// <summary>
    /// Answers matching no request of ours tolerated per peer: 4 (a late answer after our timeout is one). One more
    /// disconnects with SubprotocolError; geth drops on the first.
    /// </summary>
    public int MaxStrayAnswers { get; init; } = 4;

    /// <summary>
    /// Inbound connections in their handshakes at once (RLPx, Hello, eth Status): 50, geth's defaultMaxPendingPeers
    /// (p2p/server.go, --maxpendpeers). The listener accepts no further connection until one of them joins or fails,
    /// so a flood of half-open connections costs a bounded amount of ECDH and memory.
    /// </summary>
    public int MaxPendingPeers { get; init; } = 50;

    /// <summary>
    /// An address that connected less than this ago is refused before its handshake: 30 s, geth's inboundThrottleTime
    /// (p2p/server.go). LAN addresses are exempt, as in geth (see <see cref="ThrottleLan"/>).
    /// </summary>
    public TimeSpan InboundThrottleTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Throttle LAN addresses too (loopback, private and link-local ranges). Off, as geth has it: nodes on one host or
    /// one LAN (tests, a validator's own setup) reconnect at will. Tests turn it on to see the throttle over loopback.
    /// </summary>
    internal bool ThrottleLan { get; init; }

    /// <summary>Inbound connections accepted at once: MaxPeers − MaxPeers/3 (geth p2p/server.go maxInboundConns).</summary>
    public int MaxInboundPeers => MaxPeers - (MaxPeers / 3);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ListenAddress);
        ArgumentNullException.ThrowIfNull(StaticNodes);
        ArgumentException.ThrowIfNullOrWhiteSpace(ClientId);
        if (Port is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"devp2p option {nameof(Port)} is {Port}; it must be 0 to 65535", nameof(Port));
        }
        if (MaxPeers < 1)
        {
            throw new ArgumentException($"devp2p option {nameof(MaxPeers)} is {MaxPeers}; it must be at least 1", nameof(MaxPeers));
        }
        if (EthVersions is null || EthVersions.Count == 0 || EthVersions.Any(v => v is not (68 or 69)))
        {
            throw new ArgumentException($"devp2p option {nameof(EthVersions)} must name 68, 69 or both", nameof(EthVersions));
        }
        foreach (var (name, value) in new[]
        {
            (nameof(StatusTimeout), StatusTimeout), (nameof(RequestTimeout), RequestTimeout), (nameof(PingInterval), PingInterval),
            (nameof(IdleTimeout), IdleTimeout), (nameof(DialTimeout), DialTimeout), (nameof(StaticRedialMin), StaticRedialMin),
            (nameof(StaticRedialMax), StaticRedialMax), (nameof(InboundThrottleTime), InboundThrottleTime),
            (nameof(MisbehaviourRedial), MisbehaviourRedial),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"devp2p option {name} is {value}; it must be above zero", name);
            }
        }
        if (StaticRedialMax < StaticRedialMin)
        {
            throw new ArgumentException($"devp2p option {nameof(StaticRedialMax)} is below {nameof(StaticRedialMin)}", nameof(StaticRedialMax));
        }
        if (MaxPendingPeers < 1)
        {
            throw new ArgumentException($"devp2p option {nameof(MaxPendingPeers)} is {MaxPendingPeers}; it must be at least 1", nameof(MaxPendingPeers));
        }
        if (MaxPendingRequests < 1 || MaxStrayAnswers < 0)
        {
            throw new ArgumentException($"devp2p options {nameof(MaxPendingRequests)} (≥ 1) and {nameof(MaxStrayAnswers)} (≥ 0) are out of range");
        }
    }
}
