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
public sealed class FakeRpcSource : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _node;

    private FakeRpcSource(WebApplication app, FakeRpcNode node, int port)
    {
        _app = app;
        Node = node;
        _node = new HttpMessageInvoker(node, disposeHandler: false);
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    public FakeRpcNode Node { get; }

    public Uri Url { get; }

    public static async Task<FakeRpcSource> StartAsync(IReadOnlyList<Block> chain, CancellationToken cancellationToken = default)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var source = new FakeRpcSource(app, new FakeRpcNode(chain, servesDebug: true), port);
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
        await _app.StopAsync();
        await _app.DisposeAsync();
        _node.Dispose();
        Node.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _node.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = "application/json";
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
