using System.Net;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Testing.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>
/// The server's <c>--sync.rpc</c> peer for the hostile run: the test machinery's <see cref="FakeRpcNode"/> (a node
/// serving a chain as ethereumjs does) behind Kestrel on 127.0.0.1, each answer held back by <c>delay</c> so the sync
/// is still running while the storm starts.
/// </summary>
internal sealed class FakePeer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _node;
    private readonly TimeSpan _delay;

    private FakePeer(WebApplication app, FakeRpcNode node, Uri url, TimeSpan delay)
    {
        _app = app;
        Node = node;
        _node = new HttpMessageInvoker(node, disposeHandler: false);
        Url = url;
        _delay = delay;
    }

    public FakeRpcNode Node { get; }

    public Uri Url { get; }

    public static async Task<FakePeer> StartAsync(IReadOnlyList<Block> chain, TimeSpan delay)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var peer = new FakePeer(app, new FakeRpcNode(chain, servesDebug: true), new Uri($"http://127.0.0.1:{port}/"), delay);
        app.Run(peer.HandleAsync);
        await app.StartAsync();
        return peer;
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
        if (_delay > TimeSpan.Zero)
        {
            await Task.Delay(_delay, context.RequestAborted);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _node.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = "application/json";
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}

/// <summary>Loopback TCP ports free a moment ago (the OS picks them), never the same one twice in this process.</summary>
internal static class FreePorts
{
    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock Gate = new();

    public static int Next()
    {
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Gate)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("no free loopback TCP port in 64 attempts");
    }
}
