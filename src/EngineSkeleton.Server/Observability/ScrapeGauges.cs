using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// Sets the gauges (and the counters that mirror the sync's own counts) from the status sources each time /metrics
/// is scraped, so a value is never older than the scrape and nothing runs between scrapes.
/// </summary>
internal sealed class ScrapeGauges(NodeMetrics metrics, IBeaconSync sync, ChainStore store, SkeletonStore skeleton, DevP2pNetwork devp2p, NodeDiagnostics diagnostics, OperatorFacts facts)
{
    private static readonly string[] Transports = [MeasuredSyncPeer.Rpc, MeasuredSyncPeer.DevP2p];
    private static readonly string[] States = ["idle", "busy", "dropped"];

    private readonly Lock _gate = new();
    private readonly HashSet<string> _dropsCounted = new(StringComparer.Ordinal);
    private ulong? _headAtStart;

    /// <summary>Registers <see cref="Refresh"/> to run before every collection of the node's registry.</summary>
    public void Attach() => metrics.Registry.AddBeforeCollectCallback(Refresh);

    public void Refresh()
    {
        lock (_gate)
        {
            try
            {
                RefreshCore();
            }
            catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
            {
                // The node is stopping (stores closed) or has no genesis yet: the last values stand.
            }
        }
    }

    private void RefreshCore()
    {
        var status = sync.Status();
        var head = store.HeadHeader.Number;
        _headAtStart ??= head;
        metrics.ChainHead.Set(head);
        metrics.ChainFinalized.Set(store.FinalizedHash is { } f && store.GetHeader(f) is { } finalized ? finalized.Number : 0);
        metrics.HeadersDownloaded.IncTo(status.Downloaded);
        metrics.BackfillFilled.IncTo(head > _headAtStart.Value ? head - _headAtStart.Value : 0);
        if (status.Subchains.Count > 0)
        {
            var newest = status.Subchains[0];
            metrics.SkeletonHead.Set(newest.Head);
            // Headers still to fetch lie between the local head and the newest subchain's tail; none once linked.
            metrics.HeadersLeft.Set(status.Linked || newest.Tail <= head + 1 ? 0 : newest.Tail - head - 1);
            metrics.BackfillLeft.Set(newest.Head > head ? newest.Head - head : 0);
        }
        else
        {
            metrics.SkeletonHead.Set(0);
            metrics.HeadersLeft.Set(0);
            metrics.BackfillLeft.Set(0);
        }

        var devp2pIds = devp2p.Peers.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var counts = new Dictionary<(string, string), int>();
        foreach (var peer in status.Peers ?? [])
        {
            var transport = devp2pIds.Contains(peer.Id) ? MeasuredSyncPeer.DevP2p : MeasuredSyncPeer.Rpc;
            var state = peer.Dropped ? "dropped" : peer.Busy ? "busy" : "idle";
            counts[(transport, state)] = counts.GetValueOrDefault((transport, state)) + 1;
            if (peer.DropReason is { } reason && _dropsCounted.Add(peer.Id + "\n" + reason))
            {
                metrics.PeerDrops.WithLabels(DropCategory(reason)).Inc();
            }
        }
        foreach (var transport in Transports)
        {
            foreach (var state in States)
            {
                metrics.Peers.WithLabels(transport, state).Set(counts.GetValueOrDefault((transport, state)));
            }
        }

        metrics.StoreSize.WithLabels("chain").Set(FileSizes("chain"));
        metrics.StoreSize.WithLabels("skeleton").Set(Math.Max(skeleton.ApproximateSizeBytes, FileSizes("skeleton")));

        var active = diagnostics.Current().Select(d => d.Code).ToHashSet(StringComparer.Ordinal);
        foreach (var code in Diagnostic.Codes)
        {
            metrics.Diagnostics.WithLabels(code).Set(active.Contains(code) ? 1 : 0);
        }
    }

    /// <summary>
    /// A store's files in the datadir: LiteDB's file and its log (<c>NAME.db</c>, <c>NAME-log.db</c>) and, for the
    /// chain, the frozen blocks (<c>NAME-frozen.dat</c>, <c>NAME-frozen.idx</c>).
    /// </summary>
    private long FileSizes(string name)
    {
        long total = 0;
        foreach (var file in new[] { $"{name}.db", $"{name}-log.db", $"{name}-frozen.dat", $"{name}-frozen.idx" })
        {
            var info = new FileInfo(Path.Combine(facts.DataDir, file));
            if (info.Exists)
            {
                total += info.Length;
            }
        }
        return total;
    }

    /// <summary>
    /// The drop reason's label: a closed set, from the words the sync and the transports use (docs/operations.md,
    /// Metrics); the full reason is in skeleton_status and the log.
    /// </summary>
    internal static string DropCategory(string reason)
    {
        if (reason.StartsWith(RpcSyncPeer.OtherChain, StringComparison.Ordinal))
        {
            return "another_chain";
        }
        if (reason.Contains("no answer within", StringComparison.Ordinal) || reason.Contains("past its timeout", StringComparison.Ordinal))
        {
            return "timeout";
        }
        if (reason.Contains("do not link", StringComparison.Ordinal) || reason.Contains("does not link", StringComparison.Ordinal))
        {
            return "unlinked";
        }
        if (reason.Contains("transport error", StringComparison.Ordinal) || reason.Contains("circuit open", StringComparison.Ordinal) || reason.Contains("HTTP", StringComparison.Ordinal))
        {
            return "transport";
        }
        if (reason.Contains("malformed", StringComparison.Ordinal) || reason.Contains("mismatch", StringComparison.Ordinal) || reason.Contains("does not decode", StringComparison.Ordinal)
            || reason.Contains("does not match", StringComparison.Ordinal) || reason.Contains("asked for", StringComparison.Ordinal) || reason.Contains("does not serve block 0", StringComparison.Ordinal))
        {
            return "bad_answer";
        }
        return "other";
    }
}
