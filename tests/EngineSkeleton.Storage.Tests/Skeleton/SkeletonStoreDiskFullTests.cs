using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Storage;

namespace EngineSkeleton.Storage.Tests.Skeleton;

/// <summary>
/// The stores on a real filesystem that runs out of space (a small tmpfs): the failure is named as the disk's, a
/// failed write leaves a store that opens and reads as it was before that write (or after it, never between), and
/// writes succeed again in the same open store once space is freed (issue 14).
/// </summary>
public sealed class SkeletonStoreDiskFullTests
{
    private static readonly BlockHeader[] Chain = TestChains.Linear(20_000);

    [SmallFilesystemFact]
    public void A_full_disk_is_named_the_store_stays_readable_and_writes_resume_once_space_is_freed()
    {
        using var fs = SmallFilesystem.Mount(8);
        var path = Path.Combine(fs.Path, SkeletonStore.FileName);
        var head = (ulong)Chain.Length - 1;
        using var store = SkeletonStore.Open(path);
        store.WriteBatch([Chain[head]], ProgressOf(head, head));
        var ballast = fs.Fill(leaveBytes: 1024 * 1024);

        // Write 512-header batches downwards until the disk refuses one.
        var committed = ProgressOf(head, head);
        StoreException? full = null;
        var tail = head;
        while (full is null && tail > 512)
        {
            var next = ProgressOf(head, tail - 512);
            try
            {
                store.WriteBatch(Descending(tail - 1, tail - 512), next);
                committed = next;
                tail -= 512;
            }
            catch (StoreException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.Equal(StoreFaultKind.DiskFull, full.Kind);
        Assert.StartsWith($"disk full at {fs.Path}", full.Message, StringComparison.Ordinal);
        Assert.Contains("free space and the sync resumes", full.Message, StringComparison.Ordinal);

        // The open store reads as committed.
        var stored = store.LoadProgress();
        Assert.NotNull(stored);
        AssertConsistent(store, stored);

        // Space freed: the refused batch is written by the same open store, and the sync goes on.
        File.Delete(ballast);
        var failedBatchTail = tail - 512;
        store.WriteBatch(Descending(tail - 1, failedBatchTail), ProgressOf(head, failedBatchTail));
        store.WriteBatch(Descending(failedBatchTail - 1, failedBatchTail - 512), ProgressOf(head, failedBatchTail - 512));
        Assert.Equal(ProgressOf(head, failedBatchTail - 512), store.LoadProgress());
        AssertConsistent(store, store.LoadProgress()!);
        Assert.True(committed.Subchains[0].Tail >= failedBatchTail);
    }

    [SmallFilesystemFact]
    public void A_store_left_by_a_refused_write_opens_again_with_the_state_before_or_after_that_write()
    {
        using var fs = SmallFilesystem.Mount(8);
        var path = Path.Combine(fs.Path, SkeletonStore.FileName);
        var head = (ulong)Chain.Length - 1;
        var tail = head;
        SkeletonProgress before;
        SkeletonProgress attempted;
        using (var store = SkeletonStore.Open(path))
        {
            store.WriteBatch([Chain[head]], ProgressOf(head, head));
            fs.Fill(leaveBytes: 1024 * 1024);
            before = ProgressOf(head, head);
            while (true)
            {
                attempted = ProgressOf(head, tail - 512);
                try
                {
                    store.WriteBatch(Descending(tail - 1, tail - 512), attempted);
                }
                catch (StoreException e) when (e.Kind == StoreFaultKind.DiskFull)
                {
                    break;
                }
                before = attempted;
                tail -= 512;
                Assert.True(tail > 512, "the disk never filled");
            }
        }

        // Still full, as after a kill -9 while full: the file opens and holds one whole state.
        using var reopened = SkeletonStore.Open(path);
        var progress = reopened.LoadProgress();
        Assert.True(progress == before || progress == attempted, $"progress {progress} is neither {before} nor {attempted}");
        AssertConsistent(reopened, progress!);
    }

    [SmallFilesystemFact]
    public void The_chain_store_names_a_full_disk_and_keeps_its_head()
    {
        using var fs = SmallFilesystem.Mount(8);
        var headers = GeneratedChain.Headers(4000);
        var chain = headers.Select(h => new Block(h, GeneratedChain.EmptyBody)).ToArray();
        var path = Path.Combine(fs.Path, "chain.db");
        using var store = ChainStore.Open(path);
        store.Initialize(chain[0]);
        var ballast = fs.Fill(leaveBytes: 512 * 1024);
        StoreException? full = null;
        var written = 0;
        while (full is null && written + 128 < chain.Length)
        {
            try
            {
                store.WriteCanonical(chain[(written + 1)..(written + 129)]);
                written += 128;
            }
            catch (StoreException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.Equal(StoreFaultKind.DiskFull, full.Kind);
        Assert.StartsWith($"disk full at {fs.Path}", full.Message, StringComparison.Ordinal);
        Assert.Equal(chain[written].Header.Hash, store.HeadHeader.Hash);

        File.Delete(ballast);
        store.WriteCanonical(chain[(written + 1)..(written + 129)]);
        Assert.Equal(chain[written + 128].Header.Hash, store.HeadHeader.Hash);
        Assert.Equal(chain[written + 1].Header.Hash, store.GetCanonicalHash((ulong)written + 1));
    }

    /// <summary>Every header the progress claims is stored, hash-linked, with next the tail's parent.</summary>
    private static void AssertConsistent(SkeletonStore store, SkeletonProgress progress)
    {
        foreach (var subchain in progress.Subchains)
        {
            for (var n = subchain.Tail; n <= subchain.Head; n++)
            {
                Assert.Equal(Chain[n].Hash, store.GetHeader(n)?.Hash);
            }
            Assert.Equal(Chain[subchain.Tail].ParentHash, subchain.Next);
        }
    }

    private static BlockHeader[] Descending(ulong head, ulong tail) =>
        [.. Chain.Skip((int)tail).Take((int)(head - tail + 1)).Reverse()];

    private static SkeletonProgress ProgressOf(ulong head, ulong tail) =>
        new([new Subchain(head, tail, Chain[tail].ParentHash)], null);
}
