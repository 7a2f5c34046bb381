using System.Diagnostics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// A sync peer whose requests are timed and counted for the metrics: round trip and items per answer, by transport
/// and request kind. It is the peer the sync sees (same id); the peer set's own estimates are not touched.
/// </summary>
internal sealed class MeasuredSyncPeer(ISyncPeer inner, string transport, NodeMetrics metrics) : ISyncPeer
{
    public const string Rpc = "rpc";
    public const string DevP2p = "devp2p";

    public ISyncPeer Inner => inner;

    public string Id => inner.Id;

    public int MaxRequests => inner.MaxRequests;

    public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken) =>
        MeasureAsync("headers", () => inner.GetHeadersReverseAsync(origin, count, cancellationToken), static headers => headers.Count);

    public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) =>
        MeasureAsync("header_by_hash", () => inner.GetHeaderByHashAsync(hash, cancellationToken), static header => header is null ? 0 : 1);

    public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) =>
        MeasureAsync("bodies", () => inner.GetBodiesAsync(hashes, cancellationToken), static bodies => bodies.Count(b => b is not null));

    /// <summary>The peer set's drop reaches the transport (a devp2p session hangs up): the wrapper must not swallow it.</summary>
    public void OnDropped(string reason, DropCause cause) => inner.OnDropped(reason, cause);

    public override string ToString() => inner.ToString() ?? Id;

    private async Task<T> MeasureAsync<T>(string request, Func<Task<T>> call, Func<T, int> items)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var answer = await call().ConfigureAwait(false);
            metrics.PeerRoundTrip.WithLabels(transport, request).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            metrics.PeerResponseItems.WithLabels(transport, request).Observe(items(answer));
            return answer;
        }
        catch (PeerException)
        {
            metrics.PeerFailures.WithLabels(transport, request).Inc();
            throw;
        }
    }
}
