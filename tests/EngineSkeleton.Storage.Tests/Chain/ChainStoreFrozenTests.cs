using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Testing.Chains;
using LiteDB;

namespace EngineSkeleton.Storage.Tests.Chain;

/// <summary>
/// Frozen blocks (docs/decisions.md, Frozen blocks): canonical blocks the caller says can no longer leave the chain go
/// to append-only files beside chain.db, committed by the chain store's transaction. The execution-apis chain, so the
/// bodies hold transactions and withdrawals; epochs of 16 blocks, so the hash index closes epochs over frozen blocks.
/// </summary>
public sealed class ChainStoreFrozenTests : IDisposable
{
    private const int EpochBits = 4;

    private readonly string _dir = Directory.CreateTempSubdirectory("es-chainfrozen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath => Path.Combine(_dir, "chain.db");

    private string DataPath => Path.Combine(_dir, "chain-frozen.dat");

    private string IndexPath => Path.Combine(_dir, "chain-frozen.idx");

    private static int Head => ExecutionApisChain.Blocks.Count;

    [Fact]
    public void Blocks_frozen_through_a_number_read_back_by_hash_and_number_before_and_after_a_reopen()
    {
        using (var store = Filled(Head, freezeThrough: 40))
        {
            Assert.Equal(40, store.FrozenCount);
            Assert.Equal(40UL, store.FrozenThrough);
            Assert.Equal((Head >> EpochBits) - 2, store.ClosedEpochs); // frozen blocks' epochs closed into the index's buckets
            AssertHolds(store, Head);
        }
        Assert.True(new FileInfo(DataPath).Length > 0);

        using var reopened = ChainStore.Open(DbPath, EpochBits);
        reopened.Initialize(ExecutionApisChain.GenesisBlock);
        Assert.Equal(40, reopened.FrozenCount);
        Assert.Equal((ulong)Head, reopened.HeadHeader.Number);
        AssertHolds(reopened, Head);
    }

    [Fact]
    public void A_write_whose_commit_fails_freezes_nothing_and_the_next_write_continues_the_files()
    {
        using (var store = Filled(20, freezeThrough: (ulong)Head))
        {
            store.BeforeCommit = () => throw new IOException("No space left on device", 28);
            Assert.ThrowsAny<Exception>(() => store.TryWriteCanonical(Run(21, 27), freezeThrough: (ulong)Head));
            Assert.Equal(20, store.FrozenCount);
            Assert.Equal(20UL, store.HeadHeader.Number);
            Assert.Null(store.GetCanonicalHash(21));

            store.BeforeCommit = null;
            Assert.Equal(CanonicalWrite.Written, store.TryWriteCanonical(Run(21, 27), freezeThrough: (ulong)Head));
            Assert.Equal(27, store.FrozenCount);
            AssertHolds(store, 27);
        }
        AssertHoldsAfterReopen(27);
    }

    [Fact]
    public void Bytes_past_the_committed_end_as_a_kill_9_mid_write_leaves_them_are_cut_off_at_open()
    {
        FillAndClose(20, freezeThrough: (ulong)Head);
        var (data, index) = (DataPath, IndexPath);
        var (dataLength, indexLength) = (new FileInfo(data).Length, new FileInfo(index).Length);
        File.AppendAllText(data, "a block whose transaction never committed");
        File.AppendAllText(index, "and its torn index record");

        using (var reopened = Reopen())
        {
            Assert.Equal(dataLength, new FileInfo(data).Length);
            Assert.Equal(indexLength, new FileInfo(index).Length);
            Assert.Equal(CanonicalWrite.Written, reopened.TryWriteCanonical(Run(21, 30), freezeThrough: (ulong)Head));
            AssertHolds(reopened, 30);
        }
        AssertHoldsAfterReopen(30);
    }

    [Fact]
    public void Frozen_files_shorter_than_the_store_committed_are_refused_at_open_with_one_line()
    {
        FillAndClose(20, freezeThrough: (ulong)Head);
        using (var file = new FileStream(DataPath, FileMode.Open))
        {
            file.SetLength(file.Length - 1);
        }

        var error = Assert.Throws<StoreException>(() => ChainStore.Open(DbPath, EpochBits));

        Assert.Contains("use a fresh --datadir", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_run_that_branches_off_below_the_frozen_blocks_is_refused_and_so_is_a_head_below_them()
    {
        var fork = GeneratedChain.Fork([.. ExecutionApisChain.Blocks.Select(b => b.Header).Prepend(ExecutionApisChain.GenesisBlock.Header)], atNumber: 10, length: 2, seed: 5);
        using var store = Filled(20, freezeThrough: 15);
        store.WriteBlock(new Block(fork[11], GeneratedChain.EmptyBody)); // a side block below the frozen tip, stored

        Assert.Equal(CanonicalWrite.BelowFinalized, store.TryWriteCanonical([new Block(fork[12], GeneratedChain.EmptyBody)]));
        Assert.Throws<InvalidOperationException>(() => store.SetForkchoice(ExecutionApisChain.At(12).Header, null, null));
        Assert.Equal(20UL, store.HeadHeader.Number);
        AssertHolds(store, 20);

        store.SetForkchoice(ExecutionApisChain.At(16).Header, null, null); // above the frozen tip: a rewind is fine
        Assert.Equal(16UL, store.HeadHeader.Number);
        Assert.Null(store.GetCanonicalHash(17));
        Assert.Equal(ExecutionApisChain.At(15).Header.Hash, store.GetCanonicalHash(15));
    }

    [Fact]
    public void Blocks_are_frozen_only_while_every_canonical_block_below_them_is()
    {
        using var store = Filled(10, freezeThrough: 0); // 1..10 in LiteDB
        Assert.Equal(CanonicalWrite.Written, store.TryWriteCanonical(Run(11, 20), freezeThrough: (ulong)Head));

        Assert.Equal(0, store.FrozenCount); // 11..20 would leave a gap below them
        Assert.Equal(0UL, store.FrozenThrough);
        AssertHolds(store, 20);
    }

    [Fact]
    public void A_store_of_layout_2_is_read_as_holding_nothing_frozen_and_marked_layout_3()
    {
        FillInLayout2(10);

        using (var reopened = Reopen())
        {
            Assert.Equal(CanonicalWrite.Written, reopened.TryWriteCanonical(Run(11, 20), freezeThrough: 0));
            AssertHolds(reopened, 20);
        }

        using var db2 = new LiteDatabase(new ConnectionString { Filename = DbPath, Connection = ConnectionType.Direct });
        Assert.Equal(3, db2.GetCollection("meta").FindById("format")["version"].AsInt32);
    }

    [Fact]
    public void A_store_of_layout_2_holding_only_its_genesis_freezes_its_first_blocks_even_after_a_write_the_disk_refused()
    {
        FillInLayout2(0);
        using var store = Reopen();
        store.BeforeCommit = () => throw new IOException("No space left on device", 28);
        Assert.Throws<StoreException>(() => store.TryWriteCanonical(Run(1, 5), freezeThrough: (ulong)Head));
        store.BeforeCommit = null;

        // The refused write broke the engine: the next one opens the file again and reads the frozen entry back.
        Assert.Equal(CanonicalWrite.Written, store.TryWriteCanonical(Run(1, 10), freezeThrough: (ulong)Head));

        Assert.Equal(10, store.FrozenCount);
        AssertHolds(store, 10);
    }

    private ChainStore Reopen()
    {
        var store = ChainStore.Open(DbPath, EpochBits);
        store.Initialize(ExecutionApisChain.GenesisBlock);
        return store;
    }

    private void AssertHoldsAfterReopen(int to)
    {
        using var reopened = Reopen();
        AssertHolds(reopened, to);
    }

    /// <summary>A store on disk holding blocks 0..<paramref name="head"/> as a build of layout 2 left it: no frozen entry.</summary>
    private void FillInLayout2(int head)
    {
        FillAndClose(head, freezeThrough: 0);
        using var db = new LiteDatabase(new ConnectionString { Filename = DbPath, Connection = ConnectionType.Direct });
        db.GetCollection("meta").Delete("frozen");
        db.GetCollection("meta").Upsert(new BsonDocument { ["_id"] = "format", ["version"] = 2, ["epochBits"] = EpochBits });
    }

    private void FillAndClose(int head, ulong freezeThrough)
    {
        using var store = Filled(head, freezeThrough);
    }

    /// <summary>A store on disk holding the chain's blocks 0..<paramref name="head"/>, canonical, written in runs of 7.</summary>
    private ChainStore Filled(int head, ulong freezeThrough)
    {
        var store = ChainStore.Open(DbPath, EpochBits);
        store.Initialize(ExecutionApisChain.GenesisBlock);
        for (var from = 1; from <= head; from += 7)
        {
            Assert.Equal(CanonicalWrite.Written, store.TryWriteCanonical(Run(from, Math.Min(head, from + 6)), freezeThrough));
        }
        return store;
    }

    private static void AssertHolds(ChainStore store, int to)
    {
        for (var n = 0; n <= to; n++)
        {
            var block = ExecutionApisChain.At((ulong)n);
            var hash = block.Header.Hash;
            Assert.True(store.HasBlock(hash), $"block {n}");
            Assert.Equal(hash, store.GetHeader(hash)?.Hash);
            Assert.Equal(block.Encode(), store.GetBlock(hash)?.Encode());
            Assert.Equal(block.Body.Encode(), store.GetBody(hash)?.Encode());
            Assert.Equal(hash, store.GetCanonicalHash((ulong)n));
            Assert.Equal(hash, store.GetCanonicalHeader((ulong)n)?.Hash);
        }
        Assert.Null(store.GetCanonicalHash((ulong)to + 1));
    }

    private static Block[] Run(int from, int to) =>
        [.. Enumerable.Range(from, to - from + 1).Select(n => ExecutionApisChain.At((ulong)n))];
}
