using System.Text.Json;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>
    /// The real server whose skeleton store refuses writes mid-sync (a full disk): /health/ready answers 503 with a
    /// JSON body naming the failing check (sync: the component, the disk's line, when it restarts) beside the
    /// passing ones; once the disk takes writes again the sync restarts by itself and ready answers 200.
    /// </summary>
    [Fact]
    public async Task A_sync_held_faulted_by_a_full_disk_answers_503_on_ready_naming_the_check_and_200_once_it_heals()
    {
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis);
        await using var node = await TestNode.StartAsync("--sync.rpc", source.Url.ToString()).WaitAsync(Bound);
        var services = node.Host.App.Services;
        var full = 1;
        services.GetRequiredService<SkeletonStore>().BeforeCommit = () =>
        {
            if (Volatile.Read(ref full) == 1)
            {
                throw new IOException("No space left on device", 28);
            }
        };
        var failed = new TaskCompletionSource<SyncFault>(TaskCreationOptions.RunContinuationsAsynchronously);
        services.GetRequiredService<SkeletonSync>().Supervisor.AfterFailure = f => failed.TrySetResult(f);
        var filled = node.Backfilled(54);

        Assert.Equal("SYNCING", (await node.ForkchoiceStartingSync(ExecutionApisChain.At(54).Header.Hash).WaitAsync(Bound)).FcuStatus());
        await failed.Task.WaitAsync(Bound);
        var ready = await OperatorHttp.Get(node.HttpUri, "/health/ready").WaitAsync(Bound);

        Assert.Equal((503, "application/json"), (ready.Status, ready.ContentType));
        using (var doc = JsonDocument.Parse(ready.Body))
        {
            Assert.Equal("Unhealthy", doc.RootElement.GetProperty("status").GetString());
            var checks = doc.RootElement.GetProperty("checks");
            var sync = checks.GetProperty("sync");
            Assert.Equal("Unhealthy", sync.GetProperty("status").GetString());
            var why = sync.GetProperty("description").GetString();
            Assert.StartsWith("skeleton failed (", why, StringComparison.Ordinal);
            Assert.Contains("disk full at ", why, StringComparison.Ordinal);
            Assert.Contains("; restarts at ", why, StringComparison.Ordinal);
            Assert.Equal("Healthy", checks.GetProperty("stores").GetProperty("status").GetString());
            Assert.Equal("Healthy", checks.GetProperty("engine-api").GetProperty("status").GetString());
        }
        Assert.Equal(200, (await OperatorHttp.Get(node.HttpUri, "/health/live").WaitAsync(Bound)).Status); // live all along

        Volatile.Write(ref full, 0); // space freed: the restart after its backoff writes, and the backfill ends
        await filled.WaitAsync(Bound);
        var healed = await OperatorHttp.Get(node.HttpUri, "/health/ready").WaitAsync(Bound);
        Assert.True(healed.Status == 200, healed.Body);
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
