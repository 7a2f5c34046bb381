using System.Globalization;
using System.Text.Json;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Server.Engine;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Sync.Beacon;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Eth;

/// <summary>
/// Read methods served on both ports (docs/rpc.md) over what the node has: eth_, net_, web3_, skeleton_, rpc_.
/// eth_getBlockBy* return transaction hashes whatever fullTx asks: the node keeps transactions as bytes, unexecuted.
/// </summary>
internal sealed class EthRpcModule(ChainStore store, ChainSpec spec, IBeaconSync sync, OpenRpcDocument discovery, DevP2pNetwork devp2p, NodeDiagnostics? diagnostics = null)
{
    [JsonRpcMethod("eth_chainId")]
    public string ChainId() => Params.Quantity(spec.ChainId);

    [JsonRpcMethod("net_version")]
    public string NetVersion() => spec.ChainId.ToString(CultureInfo.InvariantCulture);

    [JsonRpcMethod("web3_clientVersion")]
    public string ClientVersion() => ClientIdentity.Web3;

    [JsonRpcMethod("eth_blockNumber")]
    public string BlockNumber() => Params.Quantity(store.HeadHeader.Number);

    /// <summary>
    /// false when the node holds the last head the beacon node asked for; else the three fields of execution-apis'
    /// SyncingStatus: startingBlock = the canonical head when this sync began, currentBlock = the canonical head
    /// (the last block backfilled), highestBlock = the skeleton's head (or the announced head, if higher or no
    /// header is downloaded yet). geth's snap-sync and index fields are left out: this node has no state to heal
    /// and no indexes, and the spec's object allows no other properties (docs/decisions.md).
    /// </summary>
    [JsonRpcMethod("eth_syncing")]
    public object Syncing()
    {
        var status = sync.Status();
        if (status.AnnouncedHead is not { } announced || store.HasBlock(announced))
        {
            return false;
        }
        var current = store.HeadHeader.Number;
        var skeletonHead = status.Subchains.Count > 0 ? status.Subchains[0].Head : 0;
        return new Dictionary<string, string>
        {
            ["startingBlock"] = Params.Quantity(Math.Min(status.StartingBlock ?? current, current)),
            ["currentBlock"] = Params.Quantity(current),
            ["highestBlock"] = Params.Quantity(Math.Max(Math.Max(skeletonHead, status.AnnouncedNumber ?? 0), current)),
        };
    }

    [JsonRpcMethod("eth_getBlockByNumber")]
    public Dictionary<string, object?>? GetBlockByNumber(JsonElement block = default, JsonElement fullTransactions = default)
    {
        ReadFullTransactions(fullTransactions);
        var hash = ResolveTag(block);
        return hash is { } h && store.GetBlock(h) is { } found ? BlockJson.From(found) : null;
    }

    [JsonRpcMethod("eth_getBlockByHash")]
    public Dictionary<string, object?>? GetBlockByHash(JsonElement hash = default, JsonElement fullTransactions = default)
    {
        var h = Params.HashValue(hash, "blockHash");
        ReadFullTransactions(fullTransactions);
        return store.GetBlock(h) is { } found ? BlockJson.From(found) : null;
    }

    [JsonRpcMethod("skeleton_status")]
    public object SkeletonStatus()
    {
        var status = sync.Status();
        var devp2pPeers = devp2p.Peers;
        var devp2pIds = devp2pPeers.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        return new Dictionary<string, object?>
        {
            ["state"] = StateName(status.State),
            ["announcedHead"] = status.AnnouncedHead?.ToString(),
            ["announcedNumber"] = status.AnnouncedNumber is { } n ? Params.Quantity(n) : null,
            ["finalized"] = status.Finalized is { } f ? Params.Quantity(f) : null,
            ["downloaded"] = Params.Quantity(status.Downloaded),
            ["headersPerSecond"] = Math.Round(status.HeadersPerSecond, 1),
            ["peers"] = (status.Peers ?? []).Select(p => new Dictionary<string, object?>
            {
                ["id"] = p.Id,
                ["transport"] = devp2pIds.Contains(p.Id) ? "devp2p" : "rpc",
                ["servedHeaders"] = p.ServedHeaders,
                ["servedBodies"] = p.ServedBodies,
                ["dropped"] = p.Dropped,
                ["dropReason"] = p.DropReason,
                ["rttMs"] = p.MeasuredRoundTrip is { } rtt ? Math.Round(rtt.TotalMilliseconds, 1) : null,
                ["timeoutMs"] = Math.Round(p.Timeout.TotalMilliseconds),
                ["configured"] = p.Configured, // re-admitted after a drop (docs/reliability.md)
                ["readmitAt"] = p.ReadmitAt?.ToString("O"),
                ["readmissions"] = p.Readmissions,
                ["requests"] = p.Requests, // out to it now, of at most maxRequests (docs/peers.md, Requests in flight)
                ["maxRequests"] = p.MaxRequests,
            }).ToArray(),
            ["subchains"] = status.Subchains.Select(s => new Dictionary<string, string>
            {
                ["head"] = Params.Quantity(s.Head),
                ["tail"] = Params.Quantity(s.Tail),
                ["next"] = s.Next.ToString(),
            }).ToArray(),
            ["linked"] = status.Linked,
            ["health"] = SyncHealthJson.From(status.Health ?? sync.Health()), // docs/reliability.md
            ["anotherChain"] = status.AnotherChain, // the head does not descend from our anchor (docs/sync.md)
            ["devp2p"] = new Dictionary<string, object?>
            {
                ["enode"] = devp2p.IsStarted ? devp2p.Self.ToString() : null,
                ["peers"] = devp2pPeers.Select(p => new Dictionary<string, object?>
                {
                    ["id"] = p.Id,
                    ["client"] = p.ClientId,
                    ["eth"] = p.EthVersion,
                    ["remoteAddress"] = p.RemoteAddress,
                    ["inbound"] = p.Inbound,
                    ["earliest"] = p.Earliest is { } e ? Params.Quantity(e) : null,
                    ["latest"] = p.Latest is { } l ? Params.Quantity(l) : null,
                }).ToArray(),
            },
            ["chain"] = new Dictionary<string, string?>
            {
                ["head"] = store.HeadHeader.Hash.ToString(),
                ["headNumber"] = Params.Quantity(store.HeadHeader.Number),
                ["safe"] = store.SafeHash?.ToString(),
                ["finalized"] = store.FinalizedHash?.ToString(),
                ["anchorNumber"] = Params.Quantity(store.AnchorHeader.Number),
            },
            ["diagnostics"] = Diagnostics(),
        };
    }

    /// <summary>skeleton_status' "diagnostics": what an operator should act on, one line each (docs/operations.md).</summary>
    private object[] Diagnostics() => diagnostics is null ? [] : DiagnosticsJson.ToObjects(diagnostics.Current());

    /// <summary>
    /// skeleton_status' "state": the names operators and scripts have read since the field existed, so a renamed
    /// enum member never changes the wire. The one place they are written.
    /// </summary>
    internal static string StateName(SyncState state) => state switch
    {
        SyncState.Idle => "idle",
        SyncState.Syncing => "syncing",
        SyncState.Linked => "linked",
        SyncState.Terminated => "terminated",
        SyncState.WaitingForPeers => "waiting for peers",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "a skeleton state without a wire name"),
    };

    [JsonRpcMethod("rpc_discover")]
    public JsonElement Discover() => discovery.Document;

    private Hash256? ResolveTag(JsonElement block)
    {
        if (block.ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams(Params.IsMissing(block) ? "missing block number or tag" : "block is not a string");
        }
        return block.GetString() switch
        {
            "latest" or "pending" => store.HeadHeader.Hash,
            "earliest" => store.GetCanonicalHash(0),
            "safe" => store.SafeHash,
            "finalized" => store.FinalizedHash,
            _ => store.GetCanonicalHash(Params.UInt64Value(block, "block number")),
        };
    }

    private static void ReadFullTransactions(JsonElement fullTransactions)
    {
        if (!Params.IsMissing(fullTransactions))
        {
            Params.Bool(fullTransactions, "fullTransactions");
        }
    }
}
