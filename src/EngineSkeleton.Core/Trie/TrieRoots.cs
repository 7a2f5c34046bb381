using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Trie;

/// <summary>Roots of the list tries a header commits to (transactionsRoot, withdrawalsRoot).</summary>
internal static class TrieRoots
{
    /// <summary>
    /// Root of a trie mapping rlp(index) to each item's bytes as given: for transactions the canonical bytes
    /// (a legacy transaction's RLP list, a typed one's type byte and payload), for withdrawals their RLP.
    /// </summary>
    public static Hash256 OfList(IReadOnlyList<byte[]> encodedItems)
    {
        ArgumentNullException.ThrowIfNull(encodedItems);
        var trie = new PatriciaTrie();
        for (var i = 0; i < encodedItems.Count; i++)
        {
            trie.Put(RlpWriter.EncodeUInt64((ulong)i), encodedItems[i]);
        }
        return trie.RootHash();
    }

    /// <summary>withdrawalsRoot (EIP-4895): the list trie of each withdrawal's RLP.</summary>
    public static Hash256 OfWithdrawals(IReadOnlyList<Withdrawal> withdrawals)
    {
        ArgumentNullException.ThrowIfNull(withdrawals);
        var encoded = new byte[withdrawals.Count][];
        for (var i = 0; i < encoded.Length; i++)
        {
            encoded[i] = withdrawals[i].Encode();
        }
        return OfList(encoded);
    }
}
