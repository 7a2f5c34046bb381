using System.Net;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Sync.Checkpoint;

namespace EngineSkeleton.Server.Hosting;

/// <summary>Section "Node" of appsettings.json.</summary>
internal sealed class NodeOptions
{
    /// <summary>LiteDB files and the JWT secret live here (geth: --datadir).</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>Built-in chain: mainnet, sepolia or hoodi. Ignored when Genesis is set.</summary>
    public string Network { get; set; } = "mainnet";

    /// <summary>A geth-format genesis.json for a custom chain.</summary>
    public string? Genesis { get; set; }

    /// <summary>Log level: trace, debug, info, warn, error, or geth's 0–5.</summary>
    public string Verbosity { get; set; } = "info";
}

/// <summary>Section "AuthRpc": the Engine API endpoint (JWT).</summary>
internal sealed class AuthRpcOptions
{
    public string Addr { get; set; } = "127.0.0.1";

    /// <summary>8551: the Engine API port every consensus client expects.</summary>
    public int Port { get; set; } = 8551;

    /// <summary>Defaults to &lt;datadir&gt;/jwtsecret, created (0600) when absent.</summary>
    public string? JwtSecret { get; set; }
}

/// <summary>Section "Http": the public read-only RPC endpoint (no JWT).</summary>
internal sealed class HttpOptions
{
    public string Addr { get; set; } = "127.0.0.1";

    /// <summary>8545: geth's HTTP-RPC port.</summary>
    public int Port { get; set; } = 8545;
}

/// <summary>Section "Sync": where headers and bodies come from.</summary>
internal sealed class SyncOptions
{
    /// <summary>JSON-RPC URLs of existing nodes to sync from (--sync.rpc, repeatable).</summary>
    public string[] Rpc { get; set; } = [];

    /// <summary>
    /// NUMBER:HASH of a trusted post-merge block to start the local chain from instead of the genesis
    /// (--sync.checkpoint, README.md (flags)); fetched from the peers on a fresh datadir.
    /// </summary>
    public string? Checkpoint { get; set; }
}

/// <summary>Section "P2P": the devp2p transport (docs/peers.md), with geth's flags and defaults.</summary>
internal sealed class P2POptions
{
    /// <summary>enode URLs to dial and keep dialed, comma-separated as geth takes them (--bootnodes).</summary>
    public string? Bootnodes { get; set; }

    /// <summary>30303: the devp2p port every client uses; 0 picks a free one.</summary>
    public int Port { get; set; } = 30303;

    /// <summary>0.0.0.0 as geth's --addr: peers must reach us; tests bind 127.0.0.1.</summary>
    public string Addr { get; set; } = "0.0.0.0";

    /// <summary>50: geth's default peer limit, dialed and inbound together.</summary>
    public int MaxPeers { get; set; } = 50;

    /// <summary>No discovery: no UDP socket, no DNS query; only the --bootnodes peers are dialed.</summary>
    public bool NoDiscover { get; set; }

    /// <summary>--discovery.port: the discv4 UDP port; by default --port, as geth's.</summary>
    public int? DiscoveryPort { get; set; }

    /// <summary>
    /// --discovery.dns: enrtree:// URLs, comma-separated; unset means the built-in network's EF list, empty turns DNS
    /// discovery off (geth's flag, same meaning).
    /// </summary>
    public string? DiscoveryDns { get; set; }

    /// <summary>--netrestrict: CIDR networks, comma-separated; only addresses in them are dialed.</summary>
    public string? NetRestrict { get; set; }

    /// <summary><c>extip:IP</c>: the address advertised in our enode instead of the listener's.</summary>
    public string? Nat { get; set; }

    /// <summary>The secp256k1 node key file; defaults to &lt;datadir&gt;/nodekey, created (0600) when absent.</summary>
    public string? NodeKey { get; set; }

    /// <summary>The --bootnodes list split and trimmed.</summary>
    public IReadOnlyList<string> BootnodeList =>
        (Bootnodes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>What the devp2p transport is given; call once the startup checks passed.</summary>
    public DevP2pOptions ToNetworkOptions() => new()
    {
        ListenAddress = IPAddress.Parse(Addr),
        Port = Port,
        MaxPeers = MaxPeers,
        StaticNodes = [.. BootnodeList.Select(Enode.Parse)],
        ExternalIp = ExternalIp,
        ClientId = EngineSkeleton.Server.Engine.ClientIdentity.Web3,
    };

    /// <summary>
    /// What discovery is given. Seeds are --bootnodes, else the built-in network's bootnodes; DNS lists are
    /// --discovery.dns, else the built-in network's. A custom genesis has neither built in. --nodiscover leaves
    /// discovery off whatever else is set.
    /// </summary>
    public PeerDiscoveryOptions ToDiscoveryOptions(string? builtInNetwork) => new()
    {
        Enabled = !NoDiscover,
        ListenAddress = IPAddress.Parse(Addr),
        Port = DiscoveryPort,
        ExternalIp = ExternalIp,
        Bootnodes = [.. (BootnodeList.Count > 0 ? BootnodeList : PeerDiscoveryOptions.BuiltInBootnodes(builtInNetwork)).Select(Enode.Parse)],
        DnsTrees = DiscoveryDns is null ? PeerDiscoveryOptions.BuiltInDnsTrees(builtInNetwork) : SplitList(DiscoveryDns),
        NetRestrict = [.. SplitList(NetRestrict).Select(IPNetwork.Parse)],
        MaxPeers = MaxPeers,
    };

    internal static IReadOnlyList<string> SplitList(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The IP of <c>--nat extip:IP</c>, or null when --nat is not given.</summary>
    public IPAddress? ExternalIp =>
        Nat is { } nat && nat.StartsWith("extip:", StringComparison.OrdinalIgnoreCase) && IPAddress.TryParse(nat[6..], out var ip) ? ip : null;
}

/// <summary>Section "Rpc": limits shared by both endpoints.</summary>
internal sealed class RpcOptions
{
    /// <summary>128 MiB (docs/rpc.md): large enough for a full Osaka payload batch, small enough to refuse abuse.</summary>
    public long MaxRequestBodyBytes { get; set; } = 128L * 1024 * 1024;
}

/// <summary>Startup checks that turn a bad setting into one line and exit code 2.</summary>
internal static class OptionChecks
{
    public static string? Validate(NodeOptions node, AuthRpcOptions auth, HttpOptions http, RpcOptions rpc, SyncOptions sync, P2POptions p2p)
    {
        if (Validate(p2p) is { } p2pError)
        {
            return p2pError;
        }
        if (!IPAddress.TryParse(auth.Addr, out _) && auth.Addr != "localhost")
        {
            return $"--authrpc.addr '{auth.Addr}' is not an IP address";
        }
        if (!IPAddress.TryParse(http.Addr, out _) && http.Addr != "localhost")
        {
            return $"--http.addr '{http.Addr}' is not an IP address";
        }
        if (auth.Port is < 0 or > 65535)
        {
            return $"--authrpc.port {auth.Port} is not a port";
        }
        if (http.Port is < 0 or > 65535)
        {
            return $"--http.port {http.Port} is not a port";
        }
        if (auth.Port == http.Port && auth.Port != 0)
        {
            return $"--authrpc.port and --http.port are both {auth.Port}";
        }
        if (rpc.MaxRequestBodyBytes < 1024)
        {
            return $"Rpc:MaxRequestBodyBytes {rpc.MaxRequestBodyBytes} is too small";
        }
        if (LogLevels.Parse(node.Verbosity) is null)
        {
            return $"--verbosity '{node.Verbosity}' is not one of trace, debug, info, warn, error, crit or 0-5";
        }
        if (string.IsNullOrWhiteSpace(node.DataDir))
        {
            return "--datadir is empty";
        }
        foreach (var url in sync.Rpc)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return $"--sync.rpc '{url}' is not an http(s) URL";
            }
        }
        if (!string.IsNullOrWhiteSpace(sync.Checkpoint) && SyncCheckpoint.Parse(sync.Checkpoint, out var checkpointError) is null)
        {
            return $"--sync.checkpoint '{sync.Checkpoint}' {checkpointError}";
        }
        return null;
    }

    private static string? Validate(P2POptions p2p)
    {
        if (!IPAddress.TryParse(p2p.Addr, out _))
        {
            return $"--p2p.addr '{p2p.Addr}' is not an IP address";
        }
        if (p2p.Port is < 0 or > 65535)
        {
            return $"--port {p2p.Port} is not a port";
        }
        if (p2p.MaxPeers < 0)
        {
            return $"--maxpeers {p2p.MaxPeers} is negative";
        }
        if (p2p.Nat is { Length: > 0 } nat && p2p.ExternalIp is null)
        {
            return $"--nat '{nat}' is not extip:IP (the only form supported)";
        }
        foreach (var url in p2p.BootnodeList)
        {
            if (!Enode.TryParse(url, out _, out var error))
            {
                return $"--bootnodes '{url}': {error}";
            }
        }
        if (p2p.DiscoveryPort is < 0 or > 65535)
        {
            return $"--discovery.port {p2p.DiscoveryPort} is not a port";
        }
        foreach (var url in P2POptions.SplitList(p2p.DiscoveryDns))
        {
            if (PeerDiscoveryOptions.CheckDnsTree(url) is { } error)
            {
                return $"--discovery.dns '{url}': {error}";
            }
        }
        foreach (var cidr in P2POptions.SplitList(p2p.NetRestrict))
        {
            if (!IPNetwork.TryParse(cidr, out _))
            {
                return $"--netrestrict '{cidr}' is not a CIDR network (such as 10.0.0.0/8)";
            }
        }
        return null;
    }
}
