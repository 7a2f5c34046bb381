using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Blocks;

/// <summary>Everything the engine relies on, checked against the real 54-block execution-apis chain.</summary>
public sealed class ChainRlpTests
{
    private static IReadOnlyList<Block> Chain => TestData.Chain;

    [Fact]
    public void Every_block_decodes_in_order_from_1_to_54()
    {
        Assert.Equal(54, Chain.Count);
        Assert.Equal(Enumerable.Range(1, 54).Select(n => (ulong)n), Chain.Select(b => b.Header.Number));
    }

    [Fact]
    public void Re_encoding_every_block_gives_the_file_byte_for_byte()
    {
        var reencoded = Chain.SelectMany(b => b.Encode()).ToArray();
        Assert.Equal(TestData.ChainBytes.Length, reencoded.Length);
        Assert.True(TestData.ChainBytes.AsSpan().SequenceEqual(reencoded));
    }

    [Fact]
    public void Decoding_a_re_encoded_block_gives_an_equal_block()
    {
        foreach (var block in Chain)
        {
            var again = Block.Decode(block.Encode());
            Assert.Equal(block.Header, again.Header);
            Assert.Equal(block.Body, again.Body);
            Assert.Equal(block.Header, BlockHeader.Decode(block.Header.Encode()));
            Assert.Equal(block.Body, BlockBody.Decode(block.Body.Encode()));
        }
    }

    [Fact]
    public void Each_header_hash_is_the_next_header_parent_hash()
    {
        for (var i = 0; i + 1 < Chain.Count; i++)
        {
            Assert.Equal(Chain[i].Header.Hash, Chain[i + 1].Header.ParentHash);
        }
    }

    [Fact]
    public void Last_header_hash_is_the_head_the_execution_apis_tests_announce()
    {
        Assert.Equal(Hash256.FromHex("0xd226371d0b1551adb03fb52b71f08e3e11247fe9b1af994768af8cdaa8e7dcd7"), TestData.HeadHash);
        Assert.Equal(TestData.HeadHash, Chain[^1].Hash);
    }

    [Fact]
    public void Hash_taken_from_the_received_bytes_equals_the_hash_of_the_re_encoding()
    {
        foreach (var block in Chain)
        {
            // `with {}` copies the header without its hash cache, so this hashes Encode() afresh.
            var copy = block.Header with { };
            Assert.Equal(Keccak256.Hash(block.Header.Encode()), block.Header.Hash);
            Assert.Equal(block.Header.Hash, copy.Hash);
        }
    }

    [Fact]
    public void Transactions_root_recomputes_for_every_block()
    {
        foreach (var block in Chain)
        {
            Assert.Equal(block.Header.TransactionsRoot, TrieRoots.OfList(block.Body.Transactions));
        }
    }

    [Fact]
    public void Withdrawals_root_recomputes_for_every_block_that_has_withdrawals()
    {
        var withWithdrawals = Chain.Where(b => b.Header.WithdrawalsRoot.HasValue).ToList();
        Assert.NotEmpty(withWithdrawals);
        Assert.Contains(withWithdrawals, b => b.Body.Withdrawals!.Count > 0);
        foreach (var block in Chain)
        {
            Assert.Equal(block.Header.WithdrawalsRoot.HasValue, block.Body.Withdrawals is not null);
            if (block.Body.Withdrawals is { } withdrawals)
            {
                Assert.Equal(block.Header.WithdrawalsRoot, TrieRoots.OfWithdrawals(withdrawals));
            }
        }
    }

    [Fact]
    public void Ommers_hash_recomputes_for_every_block_including_the_ones_with_uncles()
    {
        Assert.Contains(Chain, b => b.Body.Ommers.Count > 0);
        foreach (var block in Chain)
        {
            var ommersList = new BlockBody([], block.Body.Ommers, null).Encode();
            // The body list is [[], [ommers...]]: its second item is the ommers list the header commits to.
            var reader = new EngineSkeleton.Core.Rlp.RlpReader(ommersList).ReadList();
            reader.SkipItem();
            Assert.Equal(block.Header.OmmersHash, Keccak256.Hash(reader.ReadRawItem()));
        }
    }

    [Fact]
    public void Chain_holds_every_header_shape_from_Frontier_to_Prague()
    {
        var shapes = Chain.Select(b => b.Header switch
        {
            { RequestsHash: not null } => 21,
            { ParentBeaconBlockRoot: not null } => 20,
            { WithdrawalsRoot: not null } => 17,
            { BaseFeePerGas: not null } => 16,
            _ => 15,
        }).Distinct().Order();
        Assert.Equal<int>([15, 16, 17, 20, 21], shapes);
    }

    [Fact]
    public void Every_transaction_is_well_formed_and_every_type_up_to_7702_occurs()
    {
        var types = new HashSet<byte>();
        foreach (var tx in Chain.SelectMany(b => b.Body.Transactions))
        {
            Assert.True(Transactions.IsWellFormed(tx, out var error), error);
            Assert.True(Transactions.TryGetType(tx, out var type));
            types.Add(type);
        }
        Assert.Equal<byte>([0, 1, 2, 3, 4], types.Order());
    }

    [Fact]
    public void Blob_hashes_account_for_the_blob_gas_each_header_reports()
    {
        // EIP-4844: every blob costs GAS_PER_BLOB = 2^17 blob gas, and each blob has one versioned hash.
        const ulong gasPerBlob = 1 << 17;
        var blobBlocks = 0;
        foreach (var block in Chain.Where(b => b.Header.BlobGasUsed.HasValue))
        {
            var count = 0;
            foreach (var tx in block.Body.Transactions)
            {
                Assert.True(Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out var error), error);
                Assert.All(hashes, h => Assert.Equal(0x01, h.Bytes[0])); // version byte of KZG commitments
                count += hashes.Count;
            }
            Assert.Equal(block.Header.BlobGasUsed!.Value, (ulong)count * gasPerBlob);
            blobBlocks += count > 0 ? 1 : 0;
        }
        Assert.True(blobBlocks > 0, "the chain has blocks with blobs");
    }

    [Fact]
    public void Transaction_hash_is_keccak_of_the_canonical_bytes()
    {
        var tx = Chain.SelectMany(b => b.Body.Transactions).First(t => t[0] == Transactions.Blob);
        Assert.Equal(Keccak256.Hash(tx), Transactions.Hash(tx));
    }
}
