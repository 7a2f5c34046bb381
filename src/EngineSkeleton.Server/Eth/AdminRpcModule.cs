using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Server.Engine;
using EngineSkeleton.Storage.Chain;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Eth;

/// <summary>
/// geth's admin_nodeInfo and admin_peers, read-only: who we are on the network (enode, ENR, ports, the discv4 table)
/// and each connected peer with how it was found. The admin methods that change things (addPeer, ...) are not served.
/// </summary>
internal sealed class AdminRpcModule(DevP2pNetwork devp2p, PeerDiscovery discovery, ChainStore store, ChainSpec spec)
{
    [JsonRpcMethod("admin_nodeInfo")]
    public Dictionary<string, object?> NodeInfo()
    {
        var self = devp2p.IsStarted ? devp2p.Self : null;
        var head = store.HeadHeader;
        return new Dictionary<string, object?>
        {
            ["id"] = self is null ? null : Convert.ToHexStringLower(Keccak256.Hash(self.Id.Bytes).Bytes),
            ["name"] = ClientIdentity.Web3,
            ["enode"] = self?.ToString(),
            ["enr"] = self is null ? null : discovery.LocalRecord,
            ["ip"] = self?.Host,
            ["ports"] = new Dictionary<string, object?>
            {
                ["discovery"] = discovery.UdpEndPoint?.Port ?? 0,
                ["listener"] = self?.TcpPort,
            },
            ["protocols"] = new Dictionary<string, object?>
            {
                ["eth"] = new Dictionary<string, object?>
                {
                    ["network"] = spec.ChainId,
                    ["genesis"] = spec.GenesisHash.ToString(),
                    ["head"] = head.Hash.ToString(),
                    ["forkId"] = ForkId.For(spec, head.Number, head.Timestamp).ToString(),
                },
            },
            ["discovery"] = new Dictionary<string, object?>
            {
                ["enabled"] = discovery.Enabled,
                ["tableSize"] = discovery.TableSize,
                ["dnsRecords"] = discovery.DnsRecords,
                ["dialing"] = discovery.Dialing,
            },
        };
    }

    /// <summary>Each eth peer; <c>foundBy</c> is discv4, dns or bootnode for peers discovery dialed, inbound or static otherwise.</summary>
    [JsonRpcMethod("admin_peers")]
    public Dictionary<string, object?>[] Peers() =>
    [
        .. devp2p.Peers.Select(p => new Dictionary<string, object?>
        {
            ["id"] = p.Id,
            ["name"] = p.ClientId,
            ["caps"] = new[] { $"eth/{p.EthVersion}" },
            ["network"] = new Dictionary<string, object?>
            {
                ["remoteAddress"] = p.RemoteAddress,
                ["inbound"] = p.Inbound,
            },
            ["protocols"] = new Dictionary<string, object?> { ["eth"] = new Dictionary<string, object?> { ["version"] = p.EthVersion } },
            ["foundBy"] = p.Inbound ? "inbound" : discovery.FoundBy(p.Id) ?? "static",
        }),
    ];
}
