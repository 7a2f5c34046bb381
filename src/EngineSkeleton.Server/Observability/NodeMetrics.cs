using Prometheus;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// The node's Prometheus metrics (docs/operations.md, Metrics), in a registry of its own so two nodes in one process
/// (the tests) do not share counters. Names follow Prometheus' conventions: the <c>engineskeleton_</c> prefix, base
/// units (seconds, bytes), <c>_total</c> on counters. Counters and histograms are moved where things happen (the RPC
/// dispatch, the JWT check, peer requests); the gauges are read from the sync's and stores' status when scraped
/// (<see cref="ScrapeGauges"/>).
/// </summary>
internal sealed class NodeMetrics
{
    /// <summary>
    /// Request round trips: 1 ms (a loopback peer) to ~65 s, past the skeleton's 60 s request cap, doubling.
    /// </summary>
    private static readonly double[] RoundTripBuckets = Histogram.ExponentialBuckets(0.001, 2, 17);

    /// <summary>Engine API handler times: 0.1 ms (a known head) to ~6.5 s, past the handlers' 4 s lock bound.</summary>
    private static readonly double[] CallBuckets = Histogram.ExponentialBuckets(0.0001, 2, 17);

    /// <summary>Items per answer: 1 to 1,024 (the skeleton asks for 512 headers, bodies come in smaller batches).</summary>
    private static readonly double[] ItemBuckets = Histogram.ExponentialBuckets(1, 2, 11);

    public NodeMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);

        HeadersDownloaded = factory.CreateCounter("engineskeleton_skeleton_headers_downloaded_total", "Headers the skeleton sync downloaded, verified and stored since the node started.");
        HeadersLeft = factory.CreateGauge("engineskeleton_skeleton_headers_left", "Headers between the local chain head and the newest subchain's tail still to download (0 once linked).");
        BackfillFilled = factory.CreateCounter("engineskeleton_backfill_blocks_filled_total", "Blocks the backfiller made canonical since the node started.");
        BackfillLeft = factory.CreateGauge("engineskeleton_backfill_blocks_left", "Blocks between the local chain head and the skeleton's head still to fill.");
        ChainHead = factory.CreateGauge("engineskeleton_chain_head_number", "Number of the canonical head block.");
        ChainFinalized = factory.CreateGauge("engineskeleton_chain_finalized_number", "Number of the finalized block the beacon node last named (absent before one is known).");
        SkeletonHead = factory.CreateGauge("engineskeleton_skeleton_head_number", "Number of the newest subchain's head (the announced head being synced).");
        Peers = factory.CreateGauge("engineskeleton_peers", "Sync peers by transport (rpc, devp2p) and state (idle, busy, dropped).", "transport", "state");
        PeerRoundTrip = factory.CreateHistogram("engineskeleton_peer_request_duration_seconds", "Round trip of requests to sync peers, by transport and request kind (headers, header_by_hash, bodies).", ["transport", "request"], new HistogramConfiguration { Buckets = RoundTripBuckets });
        PeerResponseItems = factory.CreateHistogram("engineskeleton_peer_response_items", "Items (headers, bodies) in sync peers' answers, by transport and request kind.", ["transport", "request"], new HistogramConfiguration { Buckets = ItemBuckets });
        PeerFailures = factory.CreateCounter("engineskeleton_peer_request_failures_total", "Requests to sync peers that failed (transport, protocol, timeout), by transport and request kind.", "transport", "request");
        PeerDrops = factory.CreateCounter("engineskeleton_peer_drops_total", "Sync peers dropped, by reason (another_chain, timeout, bad_answer, unlinked, transport, other).", "reason");
        RpcCalls = factory.CreateCounter("engineskeleton_rpc_calls_total", "JSON-RPC calls dispatched, by endpoint (engine = the Engine API on 8551, http = the public port), method and outcome (ok or the error's name).", "endpoint", "method", "outcome");
        RpcCallDuration = factory.CreateHistogram("engineskeleton_rpc_call_duration_seconds", "Time from dispatch to answer of JSON-RPC calls, by endpoint and method.", ["endpoint", "method"], new HistogramConfiguration { Buckets = CallBuckets });
        JwtFailures = factory.CreateCounter("engineskeleton_jwt_failures_total", "Engine API requests refused by the JWT check, by reason (missing, malformed, bad_signature, stale, future, expired).", "reason");
        StoreSize = factory.CreateGauge("engineskeleton_store_size_bytes", "Size on disk of the stores (chain, skeleton): LiteDB's files, their logs and the chain's frozen blocks.", "store");
        Diagnostics = factory.CreateGauge("engineskeleton_diagnostics", "Diagnostics now active (skeleton_status' diagnostics), by code.", "code");
    }

    public CollectorRegistry Registry { get; }

    public Counter HeadersDownloaded { get; }

    public Gauge HeadersLeft { get; }

    public Counter BackfillFilled { get; }

    public Gauge BackfillLeft { get; }

    public Gauge ChainHead { get; }

    public Gauge ChainFinalized { get; }

    public Gauge SkeletonHead { get; }

    public Gauge Peers { get; }

    public Histogram PeerRoundTrip { get; }

    public Histogram PeerResponseItems { get; }

    public Counter PeerFailures { get; }

    public Counter PeerDrops { get; }

    public Counter RpcCalls { get; }

    public Histogram RpcCallDuration { get; }

    public Counter JwtFailures { get; }

    public Gauge StoreSize { get; }

    public Gauge Diagnostics { get; }
}

/// <summary>Where the metrics are served.</summary>
internal static class NodeMetricsEndpoint
{
    /// <summary>
    /// /metrics on the public port, the Prometheus text format (OpenMetrics when the scraper asks for it), from the
    /// node's own registry.
    /// </summary>
    public static void MapNodeMetrics(this WebApplication app, int httpPort) =>
        app.MapMetrics("/metrics", app.Services.GetRequiredService<NodeMetrics>().Registry).RequireHost($"*:{httpPort}");
}
