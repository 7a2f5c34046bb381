using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Storage.Chain;

namespace EngineSkeleton.Server.Engine.Bodies;

/// <summary>engine_getPayloadBodiesByHashV1 / ByRangeV1 over the blocks the node has (shanghai.md).</summary>
internal sealed class PayloadBodiesHandler(ChainStore store)
{
    /// <summary>shanghai.md: clients MUST support at least 1024 bodies per request; more is -38004.</summary>
    public const int MaxBodies = 1024;

    public ExecutionPayloadBodyV1?[] ByHash(IReadOnlyList<Hash256> hashes)
    {
        if (hashes.Count > MaxBodies)
        {
            throw RpcException.TooLargeRequest($"{hashes.Count} bodies requested, at most {MaxBodies}");
        }
        var bodies = new ExecutionPayloadBodyV1?[hashes.Count];
        for (var i = 0; i < hashes.Count; i++)
        {
            bodies[i] = store.GetBody(hashes[i]) is { } body ? ExecutionPayloadBodyV1.From(body) : null;
        }
        return bodies;
    }

    public ExecutionPayloadBodyV1?[] ByRange(ulong start, ulong count)
    {
        if (start < 1 || count < 1)
        {
            throw RpcException.InvalidParams("start and count must be at least 1");
        }
        if (count > MaxBodies)
        {
            throw RpcException.TooLargeRequest($"{count} bodies requested, at most {MaxBodies}");
        }
        var head = store.HeadHeader.Number;
        if (start > head)
        {
            return [];
        }
        var last = Math.Min(head, start + count - 1);
        var bodies = new List<ExecutionPayloadBodyV1?>((int)(last - start + 1));
        for (var n = start; n <= last; n++)
        {
            bodies.Add(store.GetCanonicalHash(n) is { } hash && store.GetBody(hash) is { } body ? ExecutionPayloadBodyV1.From(body) : null);
        }
        // Trailing unavailable bodies are trimmed (shanghai.md).
        var end = bodies.Count;
        while (end > 0 && bodies[end - 1] is null)
        {
            end--;
        }
        return [.. bodies.Take(end)];
    }
}
