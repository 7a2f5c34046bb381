using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Storage.Tests.Skeleton;

public sealed class SkeletonStoreTests : IDisposable
{
    private static readonly BlockHeader[] Chain = TestChains.Linear(2000);

    private readonly string _dir = Directory.CreateTempSubdirectory("es-skeletonstore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath => Path.Combine(_dir, SkeletonStore.FileName);

    /// <summary>The store file and LiteDB's log beside it (skeleton-log.db until a checkpoint folds it in).</summary>
    private long FileBytes() => Directory.EnumerateFiles(_dir, "skeleton*.db").Sum(f => new FileInfo(f).Length);

    [Fact]
    public void Batches_and_progress_survive_a_reopen_of_the_file()
    {
        // Two reverse batches of 512 that straddle document boundaries, as the sync writes them.
        var first = Descending(1500, 989);
        var second = Descending(988, 477);
        var afterFirst = ProgressOf(1500, 989, finalized: 1200);
        var afterSecond = ProgressOf(1500, 477, finalized: 1200);
        using (var store = SkeletonStore.OpenInDataDir(_dir))
        {
            Assert.Null(store.LoadProgress());
            store.WriteBatch(first, afterFirst);
            store.WriteBatch(second, afterSecond);
        }

        using var reopened = SkeletonStore.Open(DbPath);
        Assert.Equal(afterSecond, reopened.LoadProgress());
        for (var n = 477UL; n <= 1500; n++)
        {
            Assert.Equal(Chain[n].Hash, reopened.GetHeader(n)?.Hash);
        }
        Assert.Null(reopened.GetHeader(476));
        Assert.Null(reopened.GetHeader(1501));
        Assert.True(reopened.ApproximateSizeBytes > 1024 * 600);
    }

    [Fact]
    public void A_progress_without_subchains_or_finalized_round_trips()
    {
        using var store = SkeletonStore.OpenInMemory();

        store.SaveProgress(SkeletonProgress.Empty);

        Assert.Equal(SkeletonProgress.Empty, store.LoadProgress());
    }

    [Fact]
    public void A_batch_that_fails_before_its_commit_leaves_headers_and_progress_as_they_were()
    {
        var before = ProgressOf(1500, 1000, finalized: null);
        var other = TestChains.Fork(Chain, 1000);
        using (var store = SkeletonStore.Open(DbPath))
        {
            store.WriteBatch(Descending(1500, 1000), before);
            store.BeforeCommit = () => throw new IOException("disk gone");

            // Every header and the progress are written inside the transaction when the failure strikes; numbers
            // 1000..1300 would be overwritten by another chain's headers.
            // The disk's failure is named as the environment's, and the store is opened again before its next use.
            var error = Assert.Throws<StoreException>(() => store.WriteBatch(
                [.. other.Skip(1000).Take(301).Reverse(), .. Chain.Skip(500).Take(500).Reverse()],
                ProgressOf(1500, 500, finalized: 1400)));
            Assert.Equal(StoreFaultKind.IoError, error.Kind);
            Assert.Equal("disk gone", error.InnerException?.Message);
            Assert.StartsWith($"I/O error writing the skeleton store at {DbPath}", error.Message, StringComparison.Ordinal);
            store.BeforeCommit = null;

            Assert.Equal(before, store.LoadProgress());
            Assert.Equal(Chain[1000].Hash, store.GetHeader(1000)?.Hash);
            Assert.Null(store.GetHeader(999));

            // The next batch shares a document with the failed one: it must build on what was committed.
            store.WriteBatch([Chain[999]], ProgressOf(1500, 999, finalized: null));
            Assert.Equal(Chain[1000].Hash, store.GetHeader(1000)?.Hash);
        }

        using var reopened = SkeletonStore.Open(DbPath);
        Assert.Equal(ProgressOf(1500, 999, finalized: null), reopened.LoadProgress());
        Assert.Equal(Chain[1000].Hash, reopened.GetHeader(1000)?.Hash);
        Assert.Equal(Chain[1200].Hash, reopened.GetHeader(1200)?.Hash);
        Assert.Equal(Chain[999].Hash, reopened.GetHeader(999)?.Hash);
        Assert.Null(reopened.GetHeader(998));
    }

    [Fact]
    public void A_rewritten_number_is_read_back_with_its_new_header()
    {
        using var store = SkeletonStore.OpenInMemory();
        store.WriteBatch(Descending(300, 200), ProgressOf(300, 200, null));
        Assert.Equal(Chain[250].Hash, store.GetHeader(250)?.Hash); // the group is now cached

        var sibling = TestChains.Fork(Chain, 250)[250];
        store.WriteBatch([sibling], ProgressOf(250, 200, null));

        Assert.Equal(sibling.Hash, store.GetHeader(250)?.Hash);
    }

    [Theory]
    [InlineData("a range inside one document", 130UL, 140UL)]
    [InlineData("a range from a document's first slot to its last", 256UL, 383UL)]
    [InlineData("a range across many documents, ends unaligned", 201UL, 1777UL)]
    [InlineData("a single header", 1000UL, 1000UL)]
    [InlineData("everything stored and beyond", 0UL, 5000UL)]
    public void DeleteHeaders_removes_exactly_the_range_and_saves_the_progress(string proves, ulong from, ulong to)
    {
        Assert.NotEmpty(proves);
        using var store = SkeletonStore.OpenInMemory();
        store.WriteBatch(Descending(1999, 1), ProgressOf(1999, 1, null));
        var after = ProgressOf(1999, Math.Min(to + 1, 1999), finalized: 3);

        store.DeleteHeaders(from, to, after);

        Assert.Equal(after, store.LoadProgress());
        for (var n = 1UL; n <= 1999; n++)
        {
            Hash256? expected = n >= from && n <= to ? null : Chain[n].Hash;
            Assert.Equal(expected, store.GetHeader(n)?.Hash);
        }
    }

    [Fact]
    public void Rebuild_shrinks_a_store_emptied_by_deletes_and_keeps_what_is_left()
    {
        var progress = ProgressOf(1999, 1999, finalized: 7);
        long full, emptied, rebuilt;
        using (var store = SkeletonStore.OpenInDataDir(_dir))
        {
            store.WriteBatch(Descending(1999, 1), ProgressOf(1999, 1, null));
            full = FileBytes();
            store.DeleteHeaders(1, 1998, progress);
            emptied = FileBytes();

            Assert.True(store.Rebuild() > 0);
            rebuilt = FileBytes();
            Assert.Equal(progress, store.LoadProgress());
            Assert.Equal(Chain[1999].Hash, store.GetHeader(1999)?.Hash);
            Assert.Null(store.GetHeader(1998));
        }

        // Deleting frees pages inside the file but does not shrink it; the rebuild does, and leaves no backup behind.
        Assert.True(emptied >= full, $"{emptied} bytes after the delete, {full} before");
        Assert.True(rebuilt < full / 4, $"{rebuilt} bytes after the rebuild, {full} full");
        Assert.Equal([SkeletonStore.FileName], Directory.EnumerateFiles(_dir, "*.db").Select(Path.GetFileName));
        using var reopened = SkeletonStore.Open(DbPath);
        Assert.Equal(progress, reopened.LoadProgress());
        Assert.Equal(Chain[1999].Hash, reopened.GetHeader(1999)?.Hash);
    }

    [Fact]
    public void An_empty_delete_range_only_saves_the_progress()
    {
        using var store = SkeletonStore.OpenInMemory();
        store.WriteBatch(Descending(200, 100), ProgressOf(200, 100, null));

        store.DeleteHeaders(150, 149, ProgressOf(200, 100, 120));

        Assert.Equal(ProgressOf(200, 100, 120), store.LoadProgress());
        Assert.NotNull(store.GetHeader(150));
        Assert.NotNull(store.GetHeader(149));
    }

    [Fact]
    public void A_store_held_by_another_opener_is_refused_as_locked()
    {
        using var first = SkeletonStore.Open(DbPath);

        var error = Assert.Throws<StoreException>(() => SkeletonStore.Open(DbPath));
        Assert.Contains("skeleton store", error.Message, StringComparison.Ordinal);
        Assert.Contains("locked", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_store_is_refused_as_corrupt()
    {
        File.WriteAllBytes(DbPath, [.. Enumerable.Repeat((byte)0x5a, 16384)]);

        var error = Assert.Throws<StoreException>(() => SkeletonStore.Open(DbPath));
        Assert.Contains("skeleton store", error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
    }

    private static BlockHeader[] Descending(ulong head, ulong tail) =>
        [.. Chain.Skip((int)tail).Take((int)(head - tail + 1)).Reverse()];

    private static SkeletonProgress ProgressOf(ulong head, ulong tail, ulong? finalized) =>
        new([new Subchain(head, tail, Chain[tail].ParentHash)], finalized);
}
