using System.Numerics;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Trie;

/// <summary>An account as a genesis allocation states it; storage maps slot to value, both 32 bytes.</summary>
internal sealed record AccountEntry(
    Address Address,
    ulong Nonce,
    BigInteger Balance,
    byte[] Code,
    IReadOnlyDictionary<Hash256, Hash256> Storage);

/// <summary>
/// The state root of a set of accounts, for a genesis block: the "secure" trie keyed by keccak256(address),
/// each value rlp([nonce, balance, storageRoot, codeHash]), where storageRoot is the secure trie of the
/// account's slots keyed by keccak256(slot) holding rlp(value without leading zeros); zero slots are absent.
/// </summary>
internal static class StateRoots
{
    /// <summary>A later entry for the same address replaces an earlier one.</summary>
    public static Hash256 OfAccounts(IEnumerable<AccountEntry> accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        var trie = new PatriciaTrie();
        foreach (var account in accounts)
        {
            var storageRoot = OfStorage(account.Storage);
            var codeHash = Keccak256.Hash(account.Code);
            var payload = RlpWriter.LengthOfUInt64(account.Nonce) + RlpWriter.LengthOfBigInteger(account.Balance)
                + (2 * RlpWriter.LengthOfHash256);
            var encoded = new byte[RlpWriter.LengthOfList(payload)];
            var writer = new RlpWriter(encoded);
            writer.WriteListHeader(payload);
            writer.WriteUInt64(account.Nonce);
            writer.WriteBigInteger(account.Balance);
            writer.WriteHash256(storageRoot);
            writer.WriteHash256(codeHash);
            trie.Put(Keccak256.Hash(account.Address.Bytes).Bytes, encoded);
        }
        return trie.RootHash();
    }

    private static Hash256 OfStorage(IReadOnlyDictionary<Hash256, Hash256> storage)
    {
        var trie = new PatriciaTrie();
        foreach (var (slot, value) in storage)
        {
            var bytes = value.Bytes;
            var firstNonZero = bytes.IndexOfAnyExcept((byte)0);
            if (firstNonZero < 0)
            {
                continue;
            }
            trie.Put(Keccak256.Hash(slot.Bytes).Bytes, RlpWriter.EncodeBytes(bytes[firstNonZero..]));
        }
        return trie.RootHash();
    }
}
