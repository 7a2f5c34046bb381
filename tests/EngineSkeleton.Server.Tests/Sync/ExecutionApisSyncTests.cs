using EngineSkeleton.Server.Tests.Observability;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;


namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// The execution-apis chain (genesis through Osaka, every transaction type, pre-merge blocks with uncles, execution
/// requests at 45) synced by the real server from a JSON-RPC node on loopback serving the file's blocks: told only
/// forkchoiceUpdated(54), it answers SYNCING, downloads the skeleton, links it to genesis, backfills, and then
/// answers VALID with every canonical hash equal to the file's.
/// </summary>
public sealed class ExecutionApisSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("a node serving debug_getRawHeader/debug_getRawBlock (by number, as ethereumjs)", true)]
    [InlineData("a node serving only eth_getBlockBy* (as hardhat)", false)]
    public async Task Synced_from_a_JSON_RPC_peer_the_chain_is_VALID_at_54_with_every_hash_the_files(string because, bool servesDebug)
    {
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis, servesDebug);
        await using var node = await TestNode.StartAsync("--sync.rpc", source.Url.ToString());
        var head = ExecutionApisChain.At(54).Header;
        var filled = node.Backfilled(54);

        var first = await node.ForkchoiceStartingSync(head.Hash);
        Assert.True(first.FcuStatus() == "SYNCING", $"{because}: {first}");
        await filled.WaitAsync(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);

        Assert.True(last.FcuStatus() == "VALID", $"{because}: {last}");
        Assert.Equal(head.Hash.ToString(), last.Result().GetProperty("payloadStatus").GetProperty("latestValidHash").GetString());
        for (ulong n = 0; n <= 54; n++)
        {
            var block = (await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), false)).Result();
            Assert.True(
                block.ValueKind == System.Text.Json.JsonValueKind.Object && block.GetProperty("hash").GetString() == ExecutionApisChain.At(n).Header.Hash.ToString(),
                $"{because}: block {n} is {block}");
        }
        Assert.Contains(servesDebug ? "debug_getRawBlock" : "eth_getBlockByNumber", source.Node.Calls); // the way the blocks came
    }

    [Fact]
    public async Task Told_its_head_is_finalized_the_node_freezes_the_chain_serves_every_block_from_the_files_and_counts_them_in_its_store_size()
    {
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis);
        await using var node = await TestNode.StartAsync("--sync.rpc", source.Url.ToString());
        var head = ExecutionApisChain.At(54).Header;
        var filled = node.Backfilled(54);

        // forkchoiceUpdated names the head as finalized: the fill freezes every block up to it (docs/decisions.md, Frozen blocks).
        Assert.Equal("SYNCING", (await node.ForkchoiceStartingSync(head.Hash, finalized: head.Hash)).FcuStatus());
        await filled.WaitAsync(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash, finalized: head.Hash), null);

        Assert.Equal("VALID", last.FcuStatus());
        Assert.Equal(54UL, node.Host.Store.FrozenThrough);
        for (ulong n = 0; n <= 54; n++)
        {
            var block = (await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), true)).Result();
            var expected = ExecutionApisChain.At(n);
            Assert.True(
                block.ValueKind == System.Text.Json.JsonValueKind.Object && block.GetProperty("hash").GetString() == expected.Header.Hash.ToString()
                    && block.GetProperty("transactions").GetArrayLength() == expected.Body.Transactions.Count,
                $"block {n} is {block}");
        }
        var frozenBytes = new FileInfo(Path.Combine(node.DataDir, "chain-frozen.dat")).Length + new FileInfo(Path.Combine(node.DataDir, "chain-frozen.idx")).Length;
        var metrics = PrometheusText.Parse((await OperatorHttp.Get(node.HttpUri, "/metrics").WaitAsync(Bound)).Body);
        Assert.True(frozenBytes > 54 * FrozenBlocks.RecordSize, $"frozen files of {frozenBytes} bytes");
        var liteDbBytes = new[] { "chain.db", "chain-log.db" }.Select(f => new FileInfo(Path.Combine(node.DataDir, f))).Where(f => f.Exists).Sum(f => f.Length);
        Assert.Equal(liteDbBytes + frozenBytes, metrics.Value("engineskeleton_store_size_bytes", ("store", "chain"))); // nothing writes once VALID
    }

    [Fact]
    public async Task Anchored_at_a_post_merge_checkpoint_fetched_over_JSON_RPC_the_chain_above_it_syncs_to_VALID()
    {
        const ulong checkpoint = 40;
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis);
        await using var node = await TestNode.StartAsync(
            "--sync.rpc", source.Url.ToString(), "--sync.checkpoint", $"{checkpoint}:{ExecutionApisChain.At(checkpoint).Header.Hash}");
        var head = ExecutionApisChain.At(54).Header;
        var filled = node.Backfilled(54);

        var first = await node.ForkchoiceStartingSync(head.Hash);
        await filled.WaitAsync(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);

        Assert.Equal("SYNCING", first.FcuStatus());
        Assert.Equal("VALID", last.FcuStatus());
        for (ulong n = 0; n <= 54; n++)
        {
            var block = (await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), false)).Result();
            var expected = n < checkpoint ? null : ExecutionApisChain.At(n).Header.Hash.ToString();
            Assert.True(
                block.ValueKind == System.Text.Json.JsonValueKind.Null ? expected is null : block.GetProperty("hash").GetString() == expected,
                $"block {n} is {block}, expected {expected ?? "null"}");
        }
    }
}
