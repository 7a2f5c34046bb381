using System.Text.Json;
using EngineSkeleton.Server.Auth;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Server.Rpc;

/// <summary>How the host mounts a JSON-RPC endpoint.</summary>
internal static class RpcApplicationBuilderExtensions
{
    /// <summary>
    /// Serves <paramref name="targets"/> on <see cref="RpcEndpointOptions.Path"/> of the Kestrel port
    /// <see cref="RpcEndpointOptions.Port"/> (0 = any port): HTTP POST, batches and WebSocket. Requests for other
    /// ports or paths go on down the pipeline. Call once per endpoint, before routing middleware.
    /// </summary>
    /// <returns>The endpoint, e.g. for <see cref="RpcEndpoint.MethodNames"/>; it is disposed when the host stops.</returns>
    public static RpcEndpoint UseJsonRpc(this IApplicationBuilder app, RpcEndpointOptions options, IEnumerable<object> targets, JsonSerializerOptions json, JwtValidator? jwt = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        var endpoint = new RpcEndpoint(options, targets, json, jwt, services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance, services.GetService<IRpcObserver>());
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(
            static state => ((RpcEndpoint)state!).DisposeAsync().AsTask().GetAwaiter().GetResult(),
            endpoint);
        app.MapWhen(endpoint.Matches, branch =>
        {
            branch.UseWebSockets();
            branch.Run(endpoint.HandleAsync);
        });
        return endpoint;
    }
}
