using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;
using Microsoft.Extensions.DependencyInjection;

namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// The real server whose store refuses writes mid-sync (issue 14): forkchoiceUpdated keeps answering SYNCING,
/// skeleton_status' "health" says faulted with the disk's line and when the sync restarts, and once writes succeed
/// again the sync restarts by itself and forkchoiceUpdated answers VALID with the file's chain — no node restart.
/// </summary>
public sealed class SupervisedSyncServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("skeleton.db refuses writes while headers are downloaded", "skeleton")]
    [InlineData("chain.db refuses writes while bodies are backfilled", "backfill")]
    public async Task A_store_that_refuses_writes_is_reported_and_the_sync_ends_VALID_once_it_takes_them_again(string because, string component)
    {
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis);
        await using var node = await TestNode.StartAsync("--sync.rpc", source.Url.ToString());
        var services = node.Host.App.Services;
        var full = 1;
        Action refuse = () =>
        {
            if (Volatile.Read(ref full) == 1)
            {
                throw new IOException("No space left on device", 28);
            }
        };
        var failed = new TaskCompletionSource<SyncFault>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (component == "skeleton")
        {
            services.GetRequiredService<SkeletonStore>().BeforeCommit = refuse;
            services.GetRequiredService<SkeletonSync>().Supervisor.AfterFailure = f => failed.TrySetResult(f);
        }
        else
        {
            node.Host.Store.BeforeCommit = refuse;
            ((Backfiller)services.GetRequiredService<IBackfiller>()).Supervisor.AfterFailure = f => failed.TrySetResult(f);
        }
        var head = ExecutionApisChain.At(54).Header;
        var filled = node.Backfilled(54);

        Assert.Equal("SYNCING", (await node.ForkchoiceStartingSync(head.Hash)).FcuStatus());
        var fault = await failed.Task.WaitAsync(Bound);
        var health = (await node.Public("skeleton_status").WaitAsync(Bound)).Result().GetProperty("health");

        Assert.True(health.GetProperty("state").GetString() == "faulted", $"{because}: {health}");
        Assert.False(health.GetProperty("ready").GetBoolean());
        Assert.Equal(component, health.GetProperty("component").GetString());
        Assert.Equal("disk full", health.GetProperty("kind").GetString());
        Assert.StartsWith("disk full at ", health.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(fault.RestartAt?.ToString("O"), health.GetProperty("restartAt").GetString());
        Assert.Equal("SYNCING", (await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null)).FcuStatus());

        Volatile.Write(ref full, 0); // space freed: the restart after the backoff (1 s, 2 s, …) writes
        await filled.WaitAsync(Bound);

        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null);
        Assert.True(last.FcuStatus() == "VALID", $"{because}: {last}");
        for (ulong n = 0; n <= 54; n++)
        {
            var block = (await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), false)).Result();
            Assert.Equal(ExecutionApisChain.At(n).Header.Hash.ToString(), block.GetProperty("hash").GetString());
        }
        var healed = (await node.Public("skeleton_status")).Result().GetProperty("health");
        Assert.True(healed.GetProperty("ready").GetBoolean(), healed.ToString());
        Assert.True(services.GetRequiredService<IBeaconSync>().Health().IsReady);
    }
}
