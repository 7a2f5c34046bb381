using System.Net;
using EngineSkeleton.Core.Blocks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Testing.Rpc;

/// <summary>
/// A <see cref="FakeRpcNode"/> behind a real Kestrel on 127.0.0.1 (port chosen by the OS), so the server under test
/// reaches it through --sync.rpc as it would an existing node: every POST to "/" is handed to the fake as is, after
/// <c>beforeAnswer</c> (given the request body) has run: a delay, or a hold until the test has looked.
/// </summary>
public sealed class LoopbackRpcNode : IAsyncDisposable
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _invoker;

    private LoopbackRpcNode(WebApplication app, FakeRpcNode node, HttpMessageInvoker invoker, Uri url)
    {
        _app = app;
        _invoker = invoker;
        Node = node;
        Url = url;
    }

    public FakeRpcNode Node { get; }

    public Uri Url { get; }

    public static async Task<LoopbackRpcNode> StartAsync(
        IReadOnlyList<Block> chain, bool servesDebug = true, Func<byte[], CancellationToken, Task>? beforeAnswer = null)
    {
        var node = new FakeRpcNode(chain, servesDebug);
        var invoker = new HttpMessageInvoker(node, disposeHandler: true);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (beforeAnswer is not null)
            {
                await beforeAnswer(body.ToArray(), context.RequestAborted);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, "http://fake/") { Content = new ByteArrayContent(body.ToArray()) };
            using var response = await invoker.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync().WaitAsync(StartBound);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LoopbackRpcNode(app, node, invoker, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _invoker.Dispose();
    }
}
