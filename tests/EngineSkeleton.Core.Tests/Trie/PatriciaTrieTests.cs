using System.Text;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;

namespace EngineSkeleton.Core.Tests.Trie;

public sealed class PatriciaTrieTests
{
    public static TheoryData<string, string[], string> PublishedRoots => new()
    {
        {
            "keys that prefix one another put values in branches (ethereum/tests trieanyorder 'dogs')",
            ["do", "verb", "dog", "puppy", "doge", "coin", "horse", "stallion"],
            "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84"
        },
        {
            "an extension over a branch with a long leaf (geth trie_test TestInsert)",
            ["doe", "reindeer", "dog", "puppy", "dogglesworth", "cat"],
            "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3"
        },
        {
            "a lone leaf whose encoding is over 32 bytes is hashed, not embedded (geth TestInsert)",
            ["A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
            "0xd23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab"
        },
    };

    [Theory]
    [MemberData(nameof(PublishedRoots))]
    public void Published_roots_are_reproduced_in_any_insertion_order(string proves, string[] pairs, string root)
    {
        Assert.NotEmpty(proves);
        var entries = Enumerable.Range(0, pairs.Length / 2).Select(i => (pairs[2 * i], pairs[(2 * i) + 1])).ToList();
        var random = new Random(5);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var trie = new PatriciaTrie();
            foreach (var (key, value) in entries.OrderBy(_ => random.Next()))
            {
                trie.Put(Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(value));
            }
            Assert.Equal(Hash256.FromHex(root), trie.RootHash());
        }
    }

    [Fact]
    public void Keccak_keyed_secure_trie_matches_the_published_root()
    {
        // parity-common triehash sec_trie_root of the same three entries as geth's TestInsert.
        var trie = new PatriciaTrie();
        foreach (var (key, value) in new[] { ("doe", "reindeer"), ("dog", "puppy"), ("dogglesworth", "cat") })
        {
            trie.Put(Keccak256.Hash(Encoding.ASCII.GetBytes(key)).ToArray(), Encoding.ASCII.GetBytes(value));
        }
        Assert.Equal(Hash256.FromHex("0xd4cd937e4a4368d7931a9cf51686b7e10abb3dce38a39000fd7902a092b64585"), trie.RootHash());
    }

    [Fact]
    public void An_empty_trie_has_the_empty_root()
    {
        Assert.Equal(Keccak256.EmptyTrieRoot, new PatriciaTrie().RootHash());
        Assert.Equal(Keccak256.EmptyTrieRoot, TrieRoots.OfList([]));
    }

    [Fact]
    public void Putting_a_key_again_replaces_its_value()
    {
        var trie = new PatriciaTrie();
        trie.Put("dog"u8, "cat"u8);
        trie.Put("dog"u8, "puppy"u8);
        var expected = new PatriciaTrie();
        expected.Put("dog"u8, "puppy"u8);
        Assert.Equal(expected.RootHash(), trie.RootHash());
    }

    [Fact]
    public void An_empty_value_is_refused_because_a_trie_reads_it_as_absent()
    {
        Assert.Throws<ArgumentException>(() => new PatriciaTrie().Put("dog"u8, []));
    }

    [Fact]
    public void A_list_of_more_than_128_items_roots_like_its_items_put_by_rlp_index()
    {
        // Indexes 0..0x7f encode as one byte and 0x80.. as two: keys of different lengths in one trie.
        var items = Enumerable.Range(0, 300).Select(i => new byte[] { 0xc1, (byte)(i % 0x80) }).ToList();
        var trie = new PatriciaTrie();
        for (var i = items.Count - 1; i >= 0; i--)
        {
            trie.Put(EngineSkeleton.Core.Rlp.RlpWriter.EncodeUInt64((ulong)i), items[i]);
        }
        Assert.Equal(trie.RootHash(), TrieRoots.OfList(items));
    }
}
