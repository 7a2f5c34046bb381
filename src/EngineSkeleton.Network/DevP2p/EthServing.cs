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

    public static IReadOnlyList<BlockHeader> Headers(IEthChain chain, GetBlockHeadersMessage query)
    {
        var max = query.AmountToServe;
        var headers = new List<BlockHeader>(Math.Min(max, 64));
        if (max == 0)
        {
            return headers;
        }
        var current = query.Origin.Hash is { } hash ? chain.GetHeader(hash) : chain.GetHeader(query.Origin.Number);
        var bytes = 0;
        while (current is not null && headers.Count < max && bytes < SoftResponseLimit)
        {
            headers.Add(current);
            bytes += current.EncodedBytes().Length;
            if (headers.Count == max)
            {
                break;
            }
            current = Next(chain, current, query.Skip, query.Reverse);
        }
        return headers;
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

    /// <summary>The header <paramref name="skip"/> + 1 blocks away, or null past either end of what we hold.</summary>
    private static BlockHeader? Next(IEthChain chain, BlockHeader current, ulong skip, bool reverse)
    {
        var canonical = chain.GetHeader(current.Number) is { } atNumber && atNumber.Hash == current.Hash;
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
            return ancestor;
        }
        if (reverse)
        {
            return skip < current.Number ? chain.GetHeader(current.Number - skip - 1) : null;
        }
        return skip < ulong.MaxValue - current.Number ? chain.GetHeader(current.Number + skip + 1) : null;
    }
}
