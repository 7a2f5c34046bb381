using EngineSkeleton.EndToEnd.Tests.Fixtures;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): our node is given two --sync.rpc sources, the shared @ethereumjs/client
/// source directly and the same node behind a loopback proxy that breaks every answer above the genesis in one way.
/// The proxy is asked first (see <see cref="RpcProxy.StartSortingBeforeAsync"/>); it must be dropped with a reason
/// skeleton_status shows, and the sync must complete from the direct source: VALID, every hash the source's.
/// </summary>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RpcPeerCorruptionTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>How long the whole sync may take: a stalled proxy costs three 1.5 s attempts before it is dropped.</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(2);

    [Theory(DisplayName = "Two sources, one behind a corrupting proxy: the proxy is dropped with its reason, the sync completes VALID from the other")]
    [InlineData("one header's RLP has a byte of its parent hash flipped: it still decodes, but the batch no longer links", ProxyAction.AlterHeader, "does not link")]
    [InlineData("a batch is answered with only its first half", ProxyAction.TruncateBatch, "truncated batch")]
    [InlineData("every request above the genesis gets HTTP 500, retries included", ProxyAction.ServerError, "HTTP 500")]
    [InlineData("every request above the genesis stalls 1.5 s, then the connection is cut", ProxyAction.Stall, "transport error")]
    public async Task The_corrupting_source_is_dropped_and_the_sync_completes_from_the_other(string why, ProxyAction fault, string reason)
    {
        output.WriteLine(why);
        var chain = fixture.Chain;
        var head = chain.Head.Number;
        var source = fixture.Source;
        await using var proxy = await RpcProxy.StartSortingBeforeAsync(source.RpcUrl, source.RpcUrl);
        // The capability probe (block 0 only) passes, so the proxy is taken for an ethereumjs with raw headers.
        proxy.Rule = request => request.AboveGenesis ? fault : ProxyAction.Forward;
        await using var node = await EngineSkeletonNode.StartAsync(chain.GenesisFile, ["--sync.rpc", proxy.Url.ToString(), "--sync.rpc", source.RpcUrl.ToString()]);

        var first = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        Assert.True(first.ForkchoiceUpdates.Single().Status == "SYNCING", $"forkchoiceUpdated(head) on an empty node: {first.ForkchoiceUpdates.Single()}");

        // Cross-process: the only way to see the sync finish is to ask; bounded by a deadline, each ask is cheap.
        using var deadline = new CancellationTokenSource(SyncBound);
        while (await node.GetBlockHashAsync(head) is null && !deadline.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
        }

        var status = await node.RpcAsync("skeleton_status", []);
        output.WriteLine(status.ToString());
        output.WriteLine(string.Join('\n', proxy.Exchanges.Select(e => $"{e.Request.Sequence}: {e.Request.Methods.Count} x {e.Request.Methods[0]} -> {e.Action}, {e.Outcome}")));
        Assert.True(await node.GetBlockHashAsync(head) is not null, $"not synced within {SyncBound}: {status}\n{node.Process.Diagnostics()}");
        Assert.Contains(proxy.Exchanges, e => e.Action == fault);

        var peers = status.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
        var bad = peers[proxy.Url.ToString()];
        Assert.True(bad.GetProperty("dropped").GetBoolean(), $"the corrupting proxy was not dropped: {bad}");
        Assert.Contains(reason, bad.GetProperty("dropReason").GetString() ?? string.Empty, StringComparison.Ordinal);
        var good = peers[source.RpcUrl.ToString()];
        Assert.False(good.GetProperty("dropped").GetBoolean(), $"the honest source was dropped: {good}");
        Assert.True(good.GetProperty("servedHeaders").GetUInt64() > 0 && good.GetProperty("servedBodies").GetUInt64() > 0, $"the honest source served nothing: {good}");

        var second = await LodestarDriver.DriveAsync(fixture.Tooling, new DriveOptions(node.EngineUrl, node.JwtSecretFile, chain.ChainFile) { From = head, To = head });
        Assert.All(second.Calls.Where(c => c.Call is "newPayload" or "forkchoiceUpdated"), c => Assert.True(c.Status == "VALID", $"after the sync: {c}"));
        for (var number = 0L; number <= head; number++)
        {
            var expected = number == 0 ? chain.GenesisHash : chain.Blocks[(int)number - 1].Hash;
            Assert.Equal(expected, await node.GetBlockHashAsync(number));
        }
    }
}
