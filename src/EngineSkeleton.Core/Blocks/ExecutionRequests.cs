using System.Security.Cryptography;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Blocks;

/// <summary>EIP-7685 execution requests commitment, carried in the header as requestsHash from Prague on.</summary>
public static class ExecutionRequests
{
    /// <summary>sha256 of nothing: the hash of a block with no requests.</summary>
    public static readonly Hash256 EmptyHash = new(SHA256.HashData([]));

    /// <summary>
    /// sha256(sha256(r0) ++ sha256(r1) ++ ...) over the requests as "type byte ++ data", skipping those whose data is
    /// empty (EIP-7685). The Engine API (V4) has already refused empty entries, so nothing is skipped on that path.
    /// </summary>
    public static Hash256 Hash(IReadOnlyList<byte[]> requests)
    {
        Span<byte> digests = requests.Count <= 16 ? stackalloc byte[requests.Count * 32] : new byte[requests.Count * 32];
        var used = 0;
        foreach (var request in requests)
        {
            if (request.Length > 1)
            {
                SHA256.HashData(request, digests.Slice(used, 32));
                used += 32;
            }
        }
        return new Hash256(SHA256.HashData(digests[..used]));
    }
}
