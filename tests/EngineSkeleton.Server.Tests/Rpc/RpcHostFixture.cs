using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Tests.Rpc;

/// <summary>One unauthenticated endpoint shared by a test class (tests in a class run one at a time).</summary>
public sealed class RpcHostFixture : IAsyncLifetime
{
    internal TestTarget Target { get; } = new();

    internal RpcTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Host = await RpcTestHost.StartAsync(new RpcEndpointOptions("test", RequireJwt: false, MaxRequestBodyBytes: 64 * 1024) { MaxBatchItems = 10 }, Target);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
