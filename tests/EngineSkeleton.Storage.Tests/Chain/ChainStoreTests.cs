using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Storage.Tests.Chain;

public sealed class ChainStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("es-chainstore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath => Path.Combine(_dir, "chain.db");

    [Fact]
    public void Blocks_written_and_made_canonical_survive_a_reopen()
    {
        using (var store = ChainStore.Open(DbPath))
        {
            store.Initialize(ExecutionApisChain.GenesisBlock);
            store.WriteBlocks([.. ExecutionApisChain.Blocks.Take(10)]);
            store.SetForkchoice(ExecutionApisChain.At(10).Header, ExecutionApisChain.At(8).Header.Hash, ExecutionApisChain.At(5).Header.Hash);
        }

        using var reopened = ChainStore.Open(DbPath);
        reopened.Initialize(ExecutionApisChain.GenesisBlock);
        Assert.Equal(10UL, reopened.HeadHeader.Number);
        Assert.Equal(ExecutionApisChain.At(7).Header.Hash, reopened.GetCanonicalHash(7));
        Assert.Equal(ExecutionApisChain.At(8).Header.Hash, reopened.SafeHash);
        Assert.Equal(ExecutionApisChain.At(5).Header.Hash, reopened.FinalizedHash);
        Assert.Equal(ExecutionApisChain.At(3).Encode(), reopened.GetBlock(ExecutionApisChain.At(3).Header.Hash)!.Encode());
    }

    [Fact]
    public void Moving_the_head_back_removes_canonical_entries_above_it()
    {
        using var store = ChainStore.OpenInMemory();
        store.Initialize(ExecutionApisChain.GenesisBlock);
        store.WriteBlocks([.. ExecutionApisChain.Blocks.Take(10)]);
        store.SetForkchoice(ExecutionApisChain.At(10).Header, null, null);

        store.SetForkchoice(ExecutionApisChain.At(6).Header, null, null);

        Assert.Equal(6UL, store.HeadHeader.Number);
        Assert.Null(store.GetCanonicalHash(7));
        Assert.True(store.HasBlock(ExecutionApisChain.At(9).Header.Hash)); // stored, no longer canonical
    }

    [Fact]
    public void Ancestry_is_answered_along_the_heads_chain()
    {
        using var store = ChainStore.OpenInMemory();
        store.Initialize(ExecutionApisChain.GenesisBlock);
        store.WriteBlocks([.. ExecutionApisChain.Blocks.Take(10)]);

        // Not yet canonical: the walk goes back through stored parents.
        Assert.True(store.IsAncestor(ExecutionApisChain.At(10).Header, ExecutionApisChain.At(4).Header));
        Assert.False(store.IsAncestor(ExecutionApisChain.At(4).Header, ExecutionApisChain.At(10).Header));

        store.SetForkchoice(ExecutionApisChain.At(10).Header, null, null);
        Assert.True(store.IsAncestor(ExecutionApisChain.At(10).Header, ExecutionApisChain.At(0).Header));
    }

    [Fact]
    public void A_datadir_of_another_chain_is_refused()
    {
        using (var store = ChainStore.Open(DbPath))
        {
            store.Initialize(ExecutionApisChain.GenesisBlock);
        }
        using var reopened = ChainStore.Open(DbPath);
        var other = new Block(EngineSkeleton.Core.Chain.BuiltInGenesis.Mainnet, new BlockBody([], [], null));

        var error = Assert.Throws<StoreException>(() => reopened.Initialize(other));
        Assert.Contains("another --datadir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_store_held_by_another_opener_is_refused_as_locked()
    {
        using var first = ChainStore.Open(DbPath);

        var error = Assert.Throws<StoreException>(() => ChainStore.Open(DbPath));
        Assert.Contains("locked", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_store_is_refused_as_corrupt()
    {
        File.WriteAllBytes(DbPath, [.. Enumerable.Repeat((byte)0x5a, 16384)]);

        var error = Assert.Throws<StoreException>(() => ChainStore.Open(DbPath));
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_written_on_another_branch_rewinds_the_canonical_index_to_the_common_ancestor_in_one_write()
    {
        var main = GeneratedChain.Headers(31);
        var fork = GeneratedChain.Fork(main, atNumber: 10, length: 5, seed: 1); // shorter than the chain it replaces
        using var store = ChainStore.OpenInMemory();
        store.Initialize(new Block(main[0], GeneratedChain.EmptyBody));
        store.WriteCanonical([.. Enumerable.Range(1, 30).Select(n => new Block(main[n], GeneratedChain.EmptyBody))]);

        store.WriteCanonical([.. Enumerable.Range(11, 5).Select(n => new Block(fork[n], GeneratedChain.EmptyBody))]);

        Assert.Equal(fork[15].Hash, store.HeadHeader.Hash);
        for (var n = 0; n <= 15; n++)
        {
            Assert.Equal(fork[n].Hash, store.GetCanonicalHash((ulong)n));
        }
        Assert.Null(store.GetCanonicalHash(16));
        Assert.True(store.HasBlock(main[30].Hash));
    }

    /// <summary>
    /// Blocks newPayload stored before the backfill reached them are not inserted a second time (that would break the
    /// key's uniqueness and fail the write): the run becomes canonical around them, and the store survives a reopen.
    /// </summary>
    [Fact]
    public void A_run_over_blocks_already_stored_becomes_canonical_and_reads_back_after_a_reopen()
    {
        using (var store = ChainStore.Open(DbPath))
        {
            store.Initialize(ExecutionApisChain.GenesisBlock);
            store.WriteBlocks([ExecutionApisChain.At(4), ExecutionApisChain.At(6)]);

            store.WriteCanonical([.. ExecutionApisChain.Blocks.Take(8)]);
            store.WriteCanonical([ExecutionApisChain.At(9), ExecutionApisChain.At(10)]);

            Assert.Equal(10UL, store.HeadHeader.Number);
        }
        using var reopened = ChainStore.Open(DbPath);
        reopened.Initialize(ExecutionApisChain.GenesisBlock);
        Assert.Equal(10UL, reopened.HeadHeader.Number);
        for (var n = 1; n <= 10; n++)
        {
            Assert.Equal(ExecutionApisChain.At((ulong)n).Header.Hash, reopened.GetCanonicalHash((ulong)n));
            Assert.Equal(ExecutionApisChain.At((ulong)n).Encode(), reopened.GetBlock(ExecutionApisChain.At((ulong)n).Header.Hash)!.Encode());
        }
    }

    [Fact]
    public void A_run_that_would_take_the_finalized_block_off_the_canonical_chain_is_refused_and_nothing_is_written()
    {
        var main = GeneratedChain.Headers(31);
        var fork = GeneratedChain.Fork(main, atNumber: 10, length: 25, seed: 1);
        using var store = ChainStore.OpenInMemory();
        store.Initialize(new Block(main[0], GeneratedChain.EmptyBody));
        store.WriteCanonical([.. Enumerable.Range(1, 30).Select(n => new Block(main[n], GeneratedChain.EmptyBody))]);
        store.SetForkchoice(main[30], null, main[20].Hash);

        Assert.Throws<InvalidOperationException>(() => store.WriteCanonical([new Block(fork[11], GeneratedChain.EmptyBody)]));

        Assert.Equal(main[30].Hash, store.HeadHeader.Hash);
        Assert.Equal(main[11].Hash, store.GetCanonicalHash(11));
        Assert.False(store.HasBlock(fork[11].Hash));
    }
}
