using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Eth;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// Answers to other peers' queries, from <see cref="IEthChain"/>, within geth's caps (eth/protocols/eth
/// handlers.go): at most 1,024 headers or bodies, and no more items once an answer reaches 2 MiB. What we lack ends
/// the answer; an answer is always sent, empty if need be. Pure functions of the chain, tested directly.
/// </summary>
internal static class EthServing
{
    /// <summary>geth's softResponseLimit: an answer stops growing once it holds 2 MiB.</summary>
    public const int SoftResponseLimit = 2 * 1024 * 1024;

    /// <summary>
    /// Non-canonical ancestors walked by hash for one step of a query that starts at a side-chain header: 100, geth's
    /// maxNonCanonical in GetAncestor. Bounds the lookups a hostile skip can cost.
    /// </summary>
    public const ulong MaxNonCanonicalSteps = 100;

    public static IReadOnlyList<BlockHeader> Headers(IEthChain chain, GetBlockHeadersMessage query) => HeadersMessage(chain, query).Headers;

    /// <summary>
    /// The answer to <paramref name="query"/>, each header's encoding taken once (for the size cap and for the
    /// message: a header built on each read, as a generated chain's, would otherwise be encoded three times).
    /// </summary>
    public static BlockHeadersMessage HeadersMessage(IEthChain chain, GetBlockHeadersMessage query)
    {
        var max = query.AmountToServe;
        var headers = new List<BlockHeader>(Math.Min(max, 64));
        var encoded = new List<byte[]>(headers.Capacity);
        if (max == 0)
        {
            return new BlockHeadersMessage(query.RequestId, headers, encoded);
        }
        BlockHeader? current;
        bool canonical;
        if (query.Origin.Hash is { } hash)
        {
            current = chain.GetHeader(hash);
            canonical = current is not null && IsCanonical(chain, current);
        }
        else
        {
            // Found by number: canonical by IEthChain's contract, and so is every header stepped to by number.
            current = chain.GetHeader(query.Origin.Number);
            canonical = true;
        }
        var bytes = 0;
        while (current is not null && headers.Count < max && bytes < SoftResponseLimit)
        {
            var rlp = current.EncodedBytes();
            headers.Add(current);
            encoded.Add(rlp);
            bytes += rlp.Length;
            if (headers.Count == max)
            {
                break;
            }
            current = Next(chain, current, query.Skip, query.Reverse, ref canonical);
        }
        return new BlockHeadersMessage(query.RequestId, headers, encoded);
    }

    public static IReadOnlyList<BlockBody> Bodies(IEthChain chain, IReadOnlyList<Hash256> hashes)
    {
        var bodies = new List<BlockBody>(Math.Min(hashes.Count, 64));
        var bytes = 0;
        foreach (var hash in hashes)
        {
            if (bodies.Count == EthLimits.MaxBodies || bytes >= SoftResponseLimit)
            {
                break;
            }
            // Stop at the first body we lack, rather than skip it as geth does: a requester matching bodies to its
            // hashes by position then never pairs a body with the wrong header.
            if (chain.GetBody(hash) is not { } body)
            {
                break;
            }
            bodies.Add(body);
            bytes += body.Encode().Length;
        }
        return bodies;
    }

    /// <summary>
    /// The header <paramref name="skip"/> + 1 blocks away, or null past either end of what we hold. A canonical
    /// header's neighbours are looked up by number (canonical too, as geth's by-number walk); a side-chain header's
    /// only by parent hash, and whether the ancestor reached is canonical is checked once for it.
    /// </summary>
    private static BlockHeader? Next(IEthChain chain, BlockHeader current, ulong skip, bool reverse, ref bool canonical)
    {
        if (!canonical)
        {
            // A side-chain origin (asked by hash): only its ancestors are well defined, as geth walks them.
            if (!reverse || skip >= MaxNonCanonicalSteps)
            {
                return null;
            }
            var ancestor = current;
            for (var i = 0UL; i <= skip && ancestor is not null; i++)
            {
                ancestor = ancestor.Number == 0 ? null : chain.GetHeader(ancestor.ParentHash);
            }
            canonical = ancestor is not null && IsCanonical(chain, ancestor);
            return ancestor;
        }
        if (reverse)
        {
            return skip < current.Number ? chain.GetHeader(current.Number - skip - 1) : null;
        }
        return skip < ulong.MaxValue - current.Number ? chain.GetHeader(current.Number + skip + 1) : null;
    }

    private static bool IsCanonical(IEthChain chain, BlockHeader header) =>
        chain.GetHeader(header.Number) is { } atNumber && atNumber.Hash == header.Hash;
}
