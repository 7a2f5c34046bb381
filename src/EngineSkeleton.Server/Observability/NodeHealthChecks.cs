using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// /health/live, /health/ready and /health on the public port, as ASP.NET Core health checks (docs/operations.md,
/// Health): live answers while the process serves HTTP; ready when the stores answer reads, the sync loop runs and the
/// Engine API accepts connections, its body listing the diagnostics too; /health adds them as a check (Degraded while
/// any holds). Each answers a JSON body naming every check, with the reason of those that fail; 503 when not ready.
/// </summary>
internal static class NodeHealthChecks
{
    public const string ReadyTag = "ready";
    public const string DiagnosticsTag = "diagnostics";

    public static IServiceCollection AddNodeHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<StoresHealthCheck>("stores", tags: [ReadyTag])
            .AddCheck<SyncLoopHealthCheck>("sync", tags: [ReadyTag])
            .AddCheck<EngineApiHealthCheck>("engine-api", tags: [ReadyTag])
            .AddCheck<DiagnosticsHealthCheck>("diagnostics", HealthStatus.Degraded, tags: [DiagnosticsTag]);
        return services;
    }

    /// <summary>Maps the three endpoints on the public port only (the Engine API port serves JSON-RPC alone).</summary>
    public static void MapNodeHealth(this WebApplication app, int httpPort)
    {
        var diagnostics = app.Services.GetRequiredService<NodeDiagnostics>();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = (c, r) => WriteAsync(c, r, null) })
            .RequireHost($"*:{httpPort}");
        // The diagnostics ride along in the ready body (they do not change its status): a probe's log shows them.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = (c, r) => WriteAsync(c, r, diagnostics.Current()) })
            .RequireHost($"*:{httpPort}");
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = (c, r) => WriteAsync(c, r, diagnostics.Current()) })
            .RequireHost($"*:{httpPort}");
    }

    /// <summary>
    /// <c>{"status":"Healthy","checks":{"stores":{"status":"Healthy","description":"..."},...},"diagnostics":[...]}</c>,
    /// the shape of ASP.NET Core's usual JSON writers (status names as HealthStatus spells them).
    /// </summary>
    private static Task WriteAsync(HttpContext context, HealthReport report, IReadOnlyList<Diagnostic>? diagnostics)
    {
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description ?? entry.Exception?.Message);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            if (diagnostics is not null)
            {
                DiagnosticsJson.Write(json, diagnostics);
            }
            json.WriteEndObject();
        }
        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }
}

/// <summary>Both LiteDB stores answer a read: the chain's anchor and the skeleton's progress.</summary>
internal sealed class StoresHealthCheck(ChainStore chain, SkeletonStore skeleton) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (chain.StoredAnchor is null)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("the chain store has no anchor yet (a --sync.checkpoint block still to fetch)"));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"the chain store does not answer: {e.Message}"));
        }
        try
        {
            var progress = skeleton.LoadProgress();
            return Task.FromResult(HealthCheckResult.Healthy(progress is null ? "chain store open; skeleton store open and empty" : $"chain store open; skeleton store open with {progress.Subchains.Count} subchains"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"the skeleton store does not answer: {e.Message}"));
        }
    }
}

/// <summary>
/// The sync loop runs: a terminated loop never moves again, and a component the supervisor holds faulted (waiting out
/// its backoff after a failure) makes no progress until it restarts.
/// </summary>
internal sealed class SyncLoopHealthCheck(IBeaconSync sync) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = sync.Status();
        return Task.FromResult(Problem(status, sync.Health()) is { } problem
            ? HealthCheckResult.Unhealthy(problem)
            : HealthCheckResult.Healthy($"sync loop running, state {EngineSkeleton.Server.Eth.EthRpcModule.StateName(status.State)}"));
    }

    /// <summary>Why the sync cannot make progress, or null. One line per condition; the first that holds is reported.</summary>
    internal static string? Problem(BeaconSyncStatus status, SyncHealth health)
    {
        if (status.State == SyncState.Terminated)
        {
            return "the skeleton sync loop has terminated: no head will be synced until the node restarts";
        }
        return health is { IsReady: false, Fault: { } fault }
            ? $"{fault.Component} failed ({fault.Failures}x): {fault.Reason}"
                + (fault.RestartAt is { } at ? $"; restarts at {at:O}" : "")
            : null;
    }
}

/// <summary>The Engine API's listener accepts a TCP connection, as a consensus client's would be.</summary>
internal sealed class EngineApiHealthCheck(OperatorFacts facts) : IHealthCheck
{
    /// <summary>A local connect takes microseconds; a second means the listener is gone or the machine is stuck.</summary>
    private static readonly TimeSpan ConnectBound = TimeSpan.FromSeconds(1);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var url = new Uri(facts.EngineUrl);
        var address = IPAddress.TryParse(url.Host, out var ip) ? ip : IPAddress.Loopback;
        if (address.Equals(IPAddress.Any))
        {
            address = IPAddress.Loopback;
        }
        else if (address.Equals(IPAddress.IPv6Any))
        {
            address = IPAddress.IPv6Loopback;
        }
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(ConnectBound);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, url.Port), bound.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Engine API accepts connections on {facts.EngineUrl}");
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"Engine API on {facts.EngineUrl} does not accept connections: {e.Message}");
        }
    }
}

/// <summary>Degraded while any diagnostic holds, its lines as the description.</summary>
internal sealed class DiagnosticsHealthCheck(NodeDiagnostics diagnostics) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var lines = diagnostics.Current();
        return Task.FromResult(lines.Count == 0
            ? HealthCheckResult.Healthy("nothing to act on")
            : HealthCheckResult.Degraded(string.Join(" | ", lines.Select(l => l.Message))));
    }
}

/// <summary>How diagnostics are written in skeleton_status, /health and the status page: one object per line.</summary>
internal static class DiagnosticsJson
{
    public static void Write(Utf8JsonWriter json, IReadOnlyList<Diagnostic> diagnostics)
    {
        json.WriteStartArray("diagnostics");
        foreach (var d in diagnostics)
        {
            json.WriteStartObject();
            json.WriteString("code", d.Code);
            json.WriteString("message", d.Message);
            json.WriteString("subject", d.Subject);
            json.WriteString("since", d.Since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>The same objects for skeleton_status' dictionary.</summary>
    public static object[] ToObjects(IReadOnlyList<Diagnostic> diagnostics) =>
        [.. diagnostics.Select(d => new Dictionary<string, string?>
        {
            ["code"] = d.Code,
            ["message"] = d.Message,
            ["subject"] = d.Subject,
            ["since"] = d.Since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        })];
}
