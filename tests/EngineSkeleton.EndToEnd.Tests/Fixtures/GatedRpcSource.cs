using System.Net;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Testing.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A <see cref="FakeRpcNode"/> behind a real Kestrel on 127.0.0.1 that a test can hold at one point of a sync: batches
/// of <c>debug_getRawBlock</c> (the backfiller's bodies) wait until <see cref="ReleaseBodies"/>, so the skeleton
/// downloads and links and the backfill stands still until the test has looked. The capability probe (which asks
/// for block 0 with eth_getBlockByNumber in the same batch) passes.
/// </summary>
public sealed class GatedRpcSource : IAsyncDisposable
{
    /// <summary>Longest a held batch waits: the node's peer retries give up after three 20 s attempts.</summary>
    private static readonly TimeSpan HoldBound = TimeSpan.FromSeconds(50);

    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _invoker;
    private readonly TaskCompletionSource _bodies = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatedRpcSource(WebApplication app, HttpMessageInvoker invoker, Uri url)
    {
        _app = app;
        _invoker = invoker;
        Url = url;
    }

    public Uri Url { get; }

    public void ReleaseBodies() => _bodies.TrySetResult();

    public static async Task<GatedRpcSource> StartAsync(IReadOnlyList<Block> chain)
    {
        var invoker = new HttpMessageInvoker(new FakeRpcNode(chain, servesDebug: true), disposeHandler: true);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        GatedRpcSource? self = null;
        app.MapPost("/", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var text = System.Text.Encoding.UTF8.GetString(body.ToArray());
            if (text.Contains("debug_getRawBlock", StringComparison.Ordinal) && !text.Contains("eth_getBlockByNumber", StringComparison.Ordinal))
            {
                await self!._bodies.Task.WaitAsync(HoldBound, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, "http://fake/") { Content = new ByteArrayContent(body.ToArray()) };
            using var response = await invoker.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        self = new GatedRpcSource(app, invoker, new Uri(address));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseBodies();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _invoker.Dispose();
    }
}
