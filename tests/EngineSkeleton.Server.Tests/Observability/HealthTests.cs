using System.Text.Json;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>
/// /health/live and /health/ready of the real server (JSON bodies naming each check), and each readiness check failing
/// on its own with the reason: a closed store, an Engine API port that accepts nothing, a terminated sync loop.
/// </summary>
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
    public async Task Closed_stores_are_not_ready_and_the_check_says_which()
    {
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(ExecutionApisChain.At(0));
        var skeleton = SkeletonStore.OpenInMemory();
        var check = new StoresHealthCheck(chain, skeleton);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        skeleton.Dispose();
        var closed = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, closed.Status);
        Assert.StartsWith("the skeleton store does not answer", closed.Description);
    }

    [Fact]
    public async Task An_Engine_API_port_that_accepts_no_connection_is_not_ready_and_the_check_names_it()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        var facts = new OperatorFacts("/nonexistent", [], 0, $"http://127.0.0.1:{port}", "/nonexistent/jwtsecret", ExecutionApisChain.At(0).Header.Hash, 1);

        var result = await new EngineApiHealthCheck(facts).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains($"http://127.0.0.1:{port} does not accept connections", result.Description);
    }

    [Fact]
    public void A_terminated_sync_loop_is_not_ready_and_a_running_one_is()
    {
        static BeaconSyncStatus In(SyncState state) => new(null, null, null, [], false, state);

        var healthy = new SyncHealth(SyncHealthState.Healthy, null);
        Assert.Contains("terminated", SyncLoopHealthCheck.Problem(In(SyncState.Terminated), healthy));
        Assert.All(new[] { SyncState.Idle, SyncState.Syncing, SyncState.Linked, SyncState.WaitingForPeers }, s => Assert.Null(SyncLoopHealthCheck.Problem(In(s), healthy)));
    }

    [Fact]
    public void A_component_the_supervisor_holds_faulted_makes_the_node_not_ready_with_its_reason()
    {
        var restartAt = new DateTimeOffset(2026, 12, 2, 21, 30, 0, TimeSpan.Zero);
        var fault = new SyncFault("skeleton", SyncFaultKind.DiskFull, "disk full at /data: free space and the sync resumes", restartAt.AddSeconds(-4), 3, restartAt);
        var status = new BeaconSyncStatus(null, null, null, [], false, SyncState.Syncing);

        var problem = SyncLoopHealthCheck.Problem(status, new SyncHealth(SyncHealthState.Faulted, fault));

        Assert.Contains("disk full at /data", problem);
        Assert.Contains("3x", problem);
        Assert.Contains("2026-12-02T21:30:00", problem);
    }
}
