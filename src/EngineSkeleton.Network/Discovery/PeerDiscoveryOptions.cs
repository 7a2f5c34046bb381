using System.Net;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Dns;

namespace EngineSkeleton.Network.Discovery;

/// <summary>
/// How the node finds peers by itself (docs/discovery.md); each default with its source. <see cref="Validate"/> runs
/// in <see cref="PeerDiscovery"/>'s constructor.
/// </summary>
public sealed record PeerDiscoveryOptions
{
    /// <summary>False for --nodiscover: no UDP socket, no DNS query, nothing dialed but --bootnodes. Our record is still made.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The address the UDP socket binds: the devp2p listener's (--p2p.addr).</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>--discovery.port: the UDP port, by default the devp2p TCP port (--port), as geth's; 0 takes any free port.</summary>
    public int? Port { get; init; }

    /// <summary>--nat extip:IP: the address written in our record.</summary>
    public IPAddress? ExternalIp { get; init; }

    /// <summary>Where lookups start: --bootnodes, else the built-in network's bootnodes (geth's params/bootnodes.go).</summary>
    public IReadOnlyList<Enode> Bootnodes { get; init; } = [];

    /// <summary>--discovery.dns: enrtree:// URLs of EIP-1459 node lists; by default the EF's list of the built-in network.</summary>
    public IReadOnlyList<string> DnsTrees { get; init; } = [];

    /// <summary>--netrestrict: only addresses in these CIDR networks are dialed; empty allows all.</summary>
    public IReadOnlyList<IPNetwork> NetRestrict { get; init; } = [];

    /// <summary>--maxpeers: a third of it (at least one) is the share of peers we dial ourselves (geth's dialRatio 3).</summary>
    public int MaxPeers { get; init; } = 50;

    /// <summary>
    /// While the dialer has a free slot and no candidate, a lookup toward a random id every 5 s (geth runs its lookups
    /// back to back while the dialer pulls from them); otherwise one every 30 min (geth's table refreshInterval).
    /// </summary>
    public TimeSpan LookupInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the DNS lists are walked again: 30 min, geth's dnsdisc recheck interval.</summary>
    public TimeSpan DnsInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The bootnodes geth ships for a built-in network (mainnet, sepolia, hoodi); none for any other name.</summary>
    public static IReadOnlyList<string> BuiltInBootnodes(string? network) => network?.ToLowerInvariant() switch
    {
        "mainnet" => KnownNodes.MainnetBootnodes,
        "sepolia" => KnownNodes.SepoliaBootnodes,
        "hoodi" => KnownNodes.HoodiBootnodes,
        _ => [],
    };

    /// <summary>The EF's DNS list of a built-in network, as geth uses it by default; none for any other name.</summary>
    public static IReadOnlyList<string> BuiltInDnsTrees(string? network) => network?.ToLowerInvariant() switch
    {
        "mainnet" => [KnownNodes.MainnetDnsTree],
        "sepolia" => [KnownNodes.SepoliaDnsTree],
        "hoodi" => [KnownNodes.HoodiDnsTree],
        _ => [],
    };

    /// <summary>Null if <paramref name="url"/> is a valid enrtree:// URL, else what is wrong with it.</summary>
    public static string? CheckDnsTree(string url) => EnrTreeUrl.TryParse(url, out _, out var error) ? null : error;

    /// <summary>The enrtree URLs parsed; call after <see cref="Validate"/>.</summary>
    internal IReadOnlyList<EnrTreeUrl> DnsTreeUrls => [.. DnsTrees.Select(EnrTreeUrl.Parse)];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ListenAddress);
        ArgumentNullException.ThrowIfNull(Bootnodes);
        ArgumentNullException.ThrowIfNull(DnsTrees);
        ArgumentNullException.ThrowIfNull(NetRestrict);
        if (Port is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"discovery option {nameof(Port)} is {Port}; it must be 0 to 65535", nameof(Port));
        }
        if (MaxPeers < 0)
        {
            throw new ArgumentException($"discovery option {nameof(MaxPeers)} is {MaxPeers}; it must not be negative", nameof(MaxPeers));
        }
        foreach (var url in DnsTrees)
        {
            if (!EnrTreeUrl.TryParse(url, out _, out var error))
            {
                throw new ArgumentException($"DNS list '{url}': {error}", nameof(DnsTrees));
            }
        }
        foreach (var (name, value) in new[] { (nameof(LookupInterval), LookupInterval), (nameof(RefreshInterval), RefreshInterval), (nameof(DnsInterval), DnsInterval) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"discovery option {name} is {value}; it must be above zero", name);
            }
        }
    }
}
