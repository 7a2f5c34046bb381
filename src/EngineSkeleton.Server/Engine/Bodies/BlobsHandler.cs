using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Rpc;
using EngineSkeleton.Storage.Chain;

namespace EngineSkeleton.Server.Engine.Bodies;

/// <summary>engine_getBlobsV1 without a blob pool: every blob is unavailable (cancun.md: null at its position).</summary>
internal sealed class BlobsHandler(ChainStore store, ChainSpec spec)
{
    /// <summary>cancun.md: clients MUST support at least 128 versioned hashes per request; more is -38004.</summary>
    public const int MaxBlobRequest = 128;

    public object?[] GetBlobsV1(IReadOnlyList<Hash256> hashes)
    {
        if (hashes.Count > MaxBlobRequest)
        {
            throw RpcException.TooLargeRequest($"{hashes.Count} blobs requested, at most {MaxBlobRequest}");
        }
        if (spec.ForkAt(store.HeadHeader.Timestamp) >= Fork.Osaka)
        {
            throw RpcException.UnsupportedFork("engine_getBlobsV1 is not served once Osaka is active (osaka.md)");
        }
        return new object?[hashes.Count];
    }
}
