using System.Text.Json;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using Microsoft.Extensions.DependencyInjection;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>/health/live and /health/ready of the real server: JSON bodies naming each check, 503 with the reason when not ready.</summary>
public sealed class HealthTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_started_node_is_live_and_ready_and_names_each_check()
    {
        await using var node = await TestNode.StartAsync().WaitAsync(Bound);

        var live = await OperatorHttp.Get(node.HttpUri, "/health/live").WaitAsync(Bound);
        var ready = await OperatorHttp.Get(node.HttpUri, "/health/ready").WaitAsync(Bound);

        Assert.Equal((200, "application/json"), (live.Status, live.ContentType));
        Assert.Equal(200, ready.Status);
        using var doc = JsonDocument.Parse(ready.Body);
        Assert.Equal("Healthy", doc.RootElement.GetProperty("status").GetString());
        var checks = doc.RootElement.GetProperty("checks");
        Assert.Equal(["engine-api", "stores", "sync"], checks.EnumerateObject().Select(c => c.Name).Order());
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task A_node_whose_skeleton_store_is_closed_is_live_but_not_ready_and_says_which_store()
    {
        await using var node = await TestNode.StartAsync().WaitAsync(Bound);
        node.Host.App.Services.GetRequiredService<SkeletonStore>().Dispose();

        var live = await OperatorHttp.Get(node.HttpUri, "/health/live").WaitAsync(Bound);
        var ready = await OperatorHttp.Get(node.HttpUri, "/health/ready").WaitAsync(Bound);

        Assert.Equal(200, live.Status);
        Assert.Equal(503, ready.Status);
        using var doc = JsonDocument.Parse(ready.Body);
        Assert.Equal("Unhealthy", doc.RootElement.GetProperty("status").GetString());
        var stores = doc.RootElement.GetProperty("checks").GetProperty("stores");
        Assert.Equal("Unhealthy", stores.GetProperty("status").GetString());
        Assert.Contains("skeleton store", stores.GetProperty("description").GetString());
    }

    [Fact]
    public void A_terminated_sync_loop_is_not_ready_and_a_running_one_is()
    {
        static BeaconSyncStatus In(SyncState state) => new(null, null, null, [], false, state);

        Assert.Contains("terminated", SyncLoopHealthCheck.Problem(In(SyncState.Terminated)));
        Assert.All(new[] { SyncState.Idle, SyncState.Syncing, SyncState.Linked, SyncState.WaitingForPeers }, s => Assert.Null(SyncLoopHealthCheck.Problem(In(s))));
    }
}
