using System.Net;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Testing.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A JSON-RPC source on a loopback port for a server process to --sync.rpc from: the test machinery's
/// <see cref="FakeRpcNode"/> (a node serving a chain of blocks as ethereumjs does) behind Kestrel. For tests whose
/// subject is our node, not a third party's, where ethereumjs' minutes of start-up buy nothing.
/// </summary>
/// <remarks>
/// Started with <c>holdBodies</c>, it holds a sync at one point: batches of <c>debug_getRawBlock</c> (the backfiller's
/// bodies) wait until <see cref="ReleaseBodies"/>, so the skeleton downloads and links and the backfill stands still
/// until the test has looked. The capability probe (block 0 by eth_getBlockByNumber in the same batch) passes.
/// </remarks>
public sealed class FakeRpcSource : IAsyncDisposable
{
    /// <summary>Longest a held batch waits: the node's peer retries give up after three 20 s attempts.</summary>
    private static readonly TimeSpan HoldBound = TimeSpan.FromSeconds(50);

    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _node;
    private readonly TaskCompletionSource _bodies = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeRpcSource(WebApplication app, FakeRpcNode node, int port)
    {
        _app = app;
        Node = node;
        _node = new HttpMessageInvoker(node, disposeHandler: false);
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    public FakeRpcNode Node { get; }

    public Uri Url { get; }

    public void ReleaseBodies() => _bodies.TrySetResult();

    public static async Task<FakeRpcSource> StartAsync(IReadOnlyList<Block> chain, bool holdBodies = false, CancellationToken cancellationToken = default)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var source = new FakeRpcSource(app, new FakeRpcNode(chain, servesDebug: true), port);
        if (!holdBodies)
        {
            source.ReleaseBodies();
        }
        app.Run(source.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await source.DisposeAsync();
            throw;
        }
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseBodies();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _node.Dispose();
        Node.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (!_bodies.Task.IsCompleted)
        {
            var text = System.Text.Encoding.UTF8.GetString(body.ToArray());
            if (text.Contains("debug_getRawBlock", StringComparison.Ordinal) && !text.Contains("eth_getBlockByNumber", StringComparison.Ordinal))
            {
                await _bodies.Task.WaitAsync(HoldBound, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _node.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = "application/json";
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
