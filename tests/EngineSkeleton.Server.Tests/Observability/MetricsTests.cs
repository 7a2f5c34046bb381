using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>
/// /metrics of the real server, scraped before and after it synced the execution-apis chain from a JSON-RPC peer on
/// loopback: the text parses as Prometheus' format (PrometheusText, a parser, not a pattern), every family is the
/// node's, and the counters, histograms and gauges moved with the sync and the Engine API calls.
/// </summary>
public sealed class MetricsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Scraped_around_a_sync_the_metrics_parse_and_move()
    {
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis);
        await using var node = await TestNode.StartAsync("--sync.rpc", source.Url.ToString());
        var (status, text, contentType) = await OperatorHttp.Get(node.HttpUri, "/metrics").WaitAsync(Bound);
        Assert.Equal(200, status);
        Assert.StartsWith("text/plain", contentType);
        var before = PrometheusText.Parse(text);

        var head = ExecutionApisChain.At(54).Header;
        var filled = node.Backfilled(54);
        await node.ForkchoiceStartingSync(head.Hash).WaitAsync(Bound);
        await filled.WaitAsync(Bound);
        Assert.Equal("VALID", (await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null).WaitAsync(Bound)).FcuStatus());
        var (refused, _) = await node.PostRaw(node.EngineUri, """{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[[]]}""", jwt: false).WaitAsync(Bound);
        Assert.Equal(401, refused);
        var after = PrometheusText.Parse((await OperatorHttp.Get(node.HttpUri, "/metrics").WaitAsync(Bound)).Body);

        Assert.All(after.Keys, name => Assert.StartsWith("engineskeleton_", name));
        Assert.Equal("counter", after["engineskeleton_skeleton_headers_downloaded_total"].Type);
        Assert.Equal("histogram", after["engineskeleton_rpc_call_duration_seconds"].Type);
        Assert.Equal("histogram", after["engineskeleton_peer_request_duration_seconds"].Type);

        Assert.Equal(0, before.Value("engineskeleton_chain_head_number"));
        Assert.Equal(54, after.Value("engineskeleton_chain_head_number"));
        Assert.Equal(0, before.Value("engineskeleton_skeleton_headers_downloaded_total"));
        Assert.True(after.Value("engineskeleton_skeleton_headers_downloaded_total") > 0);
        Assert.Equal(54, after.Value("engineskeleton_backfill_blocks_filled_total"));
        Assert.Equal(0, after.Value("engineskeleton_backfill_blocks_left"));
        Assert.True(after.Value("engineskeleton_rpc_calls_total", ("endpoint", "engine"), ("method", "engine_forkchoiceUpdatedV3"), ("outcome", "ok")) >= 2);
        Assert.True(after.Value("engineskeleton_rpc_call_duration_seconds_count", ("endpoint", "engine"), ("method", "engine_forkchoiceUpdatedV3")) >= 2);
        Assert.True(after.Value("engineskeleton_rpc_calls_total", ("endpoint", "http"), ("method", "skeleton_status"), ("outcome", "ok")) >= 1);
        Assert.Equal(1, after.Value("engineskeleton_jwt_failures_total", ("reason", "missing")));
        Assert.True(after.Value("engineskeleton_peer_request_duration_seconds_count", ("transport", "rpc"), ("request", "headers")) >= 1);
        Assert.True(after.Value("engineskeleton_peer_response_items_sum", ("transport", "rpc"), ("request", "bodies")) >= 1);
        Assert.Equal(1, after.Value("engineskeleton_peers", ("transport", "rpc"), ("state", "idle")) + after.Value("engineskeleton_peers", ("transport", "rpc"), ("state", "busy")));
        Assert.True(after.Value("engineskeleton_store_size_bytes", ("store", "chain")) > 0);
        Assert.Equal(0, after.Value("engineskeleton_diagnostics", ("code", "no-sync-source")));
    }
}
