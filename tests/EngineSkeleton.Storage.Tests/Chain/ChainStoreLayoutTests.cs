using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Testing.Chains;
using LiteDB;

namespace EngineSkeleton.Storage.Tests.Chain;

/// <summary>
/// The chain store's layout (docs/decisions.md, Storage at mainnet scale): blocks keyed by number‖hash and the hash →
/// number index in epochs, closed ones on disk with a Bloom filter, open ones in memory. Epochs of 16 blocks here, so a
/// short chain closes several.
/// </summary>
public sealed class ChainStoreLayoutTests : IDisposable
{
    private const int EpochBits = 4;

    private static readonly IReadOnlyList<BlockHeader> Main = GeneratedChain.Headers(121, seed: 3);

    private readonly string _dir = Directory.CreateTempSubdirectory("es-chainlayout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath => Path.Combine(_dir, "chain.db");

    [Fact]
    public void Every_block_is_found_by_hash_in_closed_and_open_epochs_and_after_a_reopen()
    {
        using (var store = Filled(120))
        {
            Assert.Equal((120 >> EpochBits) - 2, store.ClosedEpochs); // epochs 0..5 closed, 6 and 7 open
            AssertHolds(store, Main, 120);
        }

        using var reopened = ChainStore.Open(DbPath, EpochBits);
        reopened.Initialize(Block(Main, 0));
        Assert.Equal((120 >> EpochBits) - 2, reopened.ClosedEpochs);
        AssertHolds(reopened, Main, 120);
    }

    [Fact]
    public void A_side_branch_written_into_a_closed_epoch_is_found_then_and_after_a_reopen()
    {
        var fork = GeneratedChain.Fork(Main, atNumber: 20, length: 3, seed: 9); // blocks 21..23, in epoch 1
        using (var store = Filled(120))
        {
            Assert.True(store.ClosedEpochs >= 1);

            store.WriteBlocks([Block(fork, 21), Block(fork, 22)]);
            store.WriteBlock(Block(fork, 23));
            store.WriteBlock(Block(fork, 22)); // again: no second entry

            AssertHolds(store, fork, 23, from: 21);
            AssertHolds(store, Main, 120);
        }
        using var reopened = ChainStore.Open(DbPath, EpochBits);
        reopened.Initialize(Block(Main, 0));
        AssertHolds(reopened, fork, 23, from: 21);
        Assert.True(reopened.IsAncestor(fork[23], Main[20]));
        Assert.False(reopened.IsAncestor(fork[23], Main[21]));
    }

    [Fact]
    public void A_write_that_fails_before_its_commit_while_closing_an_epoch_leaves_the_index_as_it_was()
    {
        using (var store = Filled(40)) // epochs 0 closed; 1 and 2 open
        {
            Assert.Equal(0, store.ClosedEpochs);
            store.BeforeCommit = () => throw new IOException("disk gone");
            var run = Run(Main, 41, 60); // the head reaches epoch 3: epoch 1 would close
            Assert.Throws<StoreException>(() => store.WriteCanonical(run)); // named as the disk's: the engine is opened again, and the index read back from the file
            store.BeforeCommit = null;

            Assert.Equal(0, store.ClosedEpochs);
            Assert.Equal(40UL, store.HeadHeader.Number);
            Assert.False(store.HasBlock(Main[41].Hash));
            AssertHolds(store, Main, 40);

            store.WriteCanonical(run);
            Assert.Equal(1, store.ClosedEpochs);
            AssertHolds(store, Main, 60);
        }
        using var reopened = ChainStore.Open(DbPath, EpochBits);
        reopened.Initialize(Block(Main, 0));
        AssertHolds(reopened, Main, 60);
    }

    [Fact]
    public void A_store_closed_mid_epoch_with_side_blocks_in_open_epochs_finds_them_all_after_a_reopen()
    {
        var fork = GeneratedChain.Fork(Main, atNumber: 100, length: 5, seed: 4);
        using (var store = Filled(110))
        {
            store.WriteBlocks([.. Enumerable.Range(101, 5).Select(n => Block(fork, n))]);
            store.WriteBlock(Block(Main, 111)); // above the head, not canonical
        } // no epoch is closed on the way out: the open epochs' hashes are only in the blocks' keys

        using var reopened = ChainStore.Open(DbPath, EpochBits);
        reopened.Initialize(Block(Main, 0));
        Assert.Equal((110 >> EpochBits) - 2, reopened.ClosedEpochs);
        AssertHolds(reopened, Main, 110);
        AssertHolds(reopened, fork, 105, from: 101);
        Assert.Equal(Main[111].Hash, reopened.GetHeader(Main[111].Hash)!.Hash);
        Assert.Null(reopened.GetCanonicalHash(111));

        reopened.WriteCanonical(Run(Main, 112, 120)); // and writing on closes the epochs the head leaves behind
        Assert.Equal((120 >> EpochBits) - 2, reopened.ClosedEpochs);
        AssertHolds(reopened, Main, 120);
    }

    [Fact]
    public void A_hash_that_passes_an_epochs_filter_but_is_in_no_epoch_is_not_found()
    {
        using var store = Filled(120);
        var epoch = 2;
        var bloom = EpochBloom.Empty(epoch, EpochBits); // the store's filter of epoch 2 holds the same bits
        foreach (var header in Main.Where(h => h.Number >> EpochBits == (ulong)epoch))
        {
            bloom.Add(header.Hash);
        }
        var random = new Random(5);
        var bytes = new byte[32];
        Hash256 falsePositive;
        do
        {
            random.NextBytes(bytes);
            falsePositive = new Hash256(bytes);
        }
        while (!bloom.MayContain(falsePositive));

        Assert.False(store.HasBlock(falsePositive));
        Assert.Null(store.GetHeader(falsePositive));
        Assert.Null(store.GetBlock(falsePositive));
        Assert.Null(store.GetBody(falsePositive));
    }

    [Fact]
    public void A_chain_db_of_the_layout_keyed_by_hash_is_refused_at_open_with_one_line()
    {
        using (var db = new LiteDatabase(new ConnectionString { Filename = DbPath, Connection = ConnectionType.Direct }))
        {
            var genesis = Main[0].Hash.ToArray();
            db.GetCollection("blocks").Insert(new BsonDocument { ["_id"] = genesis, ["number"] = 0L, ["header"] = Main[0].Encode(), ["body"] = GeneratedChain.EmptyBody.Encode() });
            db.GetCollection("meta").Insert(new BsonDocument { ["_id"] = "genesis", ["hash"] = genesis });
        }

        var error = Assert.Throws<StoreException>(() => ChainStore.Open(DbPath));

        Assert.Contains("use a fresh --datadir", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        using var again = new FileStream(DbPath + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None); // the refusal let go of the file
    }

    [Fact]
    public void A_chain_db_of_another_layout_version_is_refused_at_open()
    {
        using (var store = ChainStore.Open(DbPath))
        {
            store.Initialize(Block(Main, 0));
        }
        using (var db = new LiteDatabase(new ConnectionString { Filename = DbPath, Connection = ConnectionType.Direct }))
        {
            db.GetCollection("meta").Upsert(new BsonDocument { ["_id"] = "format", ["version"] = 4, ["epochBits"] = 16 });
        }

        var error = Assert.Throws<StoreException>(() => ChainStore.Open(DbPath));

        Assert.Contains("layout 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("use a fresh --datadir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_used_store_keeps_the_epoch_size_it_was_written_with()
    {
        using (var store = Filled(120))
        {
        }
        using var reopened = ChainStore.Open(DbPath); // the node's default: the file's 16-block epochs still hold
        reopened.Initialize(Block(Main, 0));
        Assert.Equal((120 >> EpochBits) - 2, reopened.ClosedEpochs);
        AssertHolds(reopened, Main, 120);
    }

    /// <summary>A store on disk holding Main's blocks 0..<paramref name="head"/>, canonical, written in runs of 7.</summary>
    private ChainStore Filled(int head)
    {
        var store = ChainStore.Open(DbPath, EpochBits);
        store.Initialize(Block(Main, 0));
        for (var from = 1; from <= head; from += 7)
        {
            store.WriteCanonical(Run(Main, from, Math.Min(head, from + 6)));
        }
        return store;
    }

    private static void AssertHolds(ChainStore store, IReadOnlyList<BlockHeader> chain, int to, int from = 0)
    {
        for (var n = from; n <= to; n++)
        {
            var hash = chain[n].Hash;
            Assert.True(store.HasBlock(hash), $"block {n}");
            Assert.Equal(hash, store.GetHeader(hash)?.Hash);
            Assert.Equal(Block(chain, n).Encode(), store.GetBlock(hash)?.Encode());
            Assert.NotNull(store.GetBody(hash));
        }
        for (var n = 0UL; n <= store.HeadHeader.Number; n++)
        {
            Assert.Equal(store.GetCanonicalHash(n), store.GetCanonicalHeader(n)?.Hash);
        }
    }

    private static Block[] Run(IReadOnlyList<BlockHeader> chain, int from, int to) =>
        [.. Enumerable.Range(from, to - from + 1).Select(n => Block(chain, n))];

    private static Block Block(IReadOnlyList<BlockHeader> chain, int n) => new(chain[n], GeneratedChain.EmptyBody);
}
