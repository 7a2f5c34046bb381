using System.Net;
using System.Text;
using System.Text.Json;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Server.Tests.Rpc;

/// <summary>A real Kestrel on 127.0.0.1, port chosen by the OS, serving one JSON-RPC endpoint at "/".</summary>
internal sealed class RpcTestHost : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;

    private RpcTestHost(WebApplication app, RpcEndpoint endpoint, Uri address)
    {
        _app = app;
        Endpoint = endpoint;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = Timeout };
    }

    public RpcEndpoint Endpoint { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Starts Kestrel with <paramref name="kestrel"/> applied first (the hostile tests shorten the slowloris timeouts).</summary>
    public static async Task<RpcTestHost> StartAsync(RpcEndpointOptions options, object target, JwtValidator? jwt = null, Action<KestrelServerOptions>? kestrel = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            kestrel?.Invoke(k);
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var endpoint = app.UseJsonRpc(options, [target], Json, jwt);
        app.MapGet("/health", () => "other route");
        await app.StartAsync().WaitAsync(Timeout);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RpcTestHost(app, endpoint, new Uri(address));
    }

    /// <summary>POSTs a body with a content type and returns status, content type and body text.</summary>
    public async Task<(HttpStatusCode Status, string? ContentType, string Body)> PostAsync(string body, string? contentType = "application/json", string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/");
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        return await SendAsync(request);
    }

    public async Task<(HttpStatusCode Status, string? ContentType, string Body)> SendAsync(HttpRequestMessage request)
    {
        using var response = await Client.SendAsync(request).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync().WaitAsync(Timeout);
        await _app.DisposeAsync().AsTask().WaitAsync(Timeout);
    }
}
