using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Sync.Tests.TestDoubles;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace EngineSkeleton.Sync.Tests.Backfill;

/// <summary>
/// Issue 5 at scale, in process: a long chain whose blocks carry transactions of every type, blobs and withdrawals
/// syncs from a forced head through the skeleton and the backfiller to that head being canonical, on stores on disk;
/// a body corrupted at a random height is refetched from an honest peer; the skeleton store is emptied of the
/// headers the backfill consumed.
/// </summary>
/// <remarks>
/// Size and seed from the environment: <c>BACKFILL_BLOCKS</c> (default 100,000; 20,000 when <c>CI=true</c>; at
/// least 10,000) and <c>BACKFILL_SEED</c> (default a fresh one, printed, to replay a failure).
/// </remarks>
public sealed class BackfillScaleTests(ITestOutputHelper output)
{
    private const ulong DefaultBlocks = 100_000;
    private const ulong CiBlocks = 20_000;
    private const ulong SmallestBlocks = 10_000;

    /// <summary>A guard against a hung test, never a timing assertion; the two cores are shared with other builds.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    /// <summary>The rules GeneratedChain's bodies follow: every fork through Prague from the genesis, Prague's blobs.</summary>
    private static ChainSpec SpecFor(BlockHeader genesis) => GeneratedChainTests.AllForks with { GenesisHash = genesis.Hash };

    /// <summary>Records the skeleton store as the backfill finds it, on the first resume (the skeleton is linked then).</summary>
    private sealed class MeasuredFiller(IBackfiller inner, Action beforeFirstResume) : IBackfiller
    {
        private int _resumed;

        public Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken) => inner.SuspendAsync(cancellationToken);

        public void Resume()
        {
            if (Interlocked.Exchange(ref _resumed, 1) == 0)
            {
                beforeFirstResume();
            }
            inner.Resume();
        }
    }

    [Fact]
    public async Task A_long_chain_with_transactions_blobs_and_withdrawals_backfills_to_its_head_refetching_a_corrupted_body_and_leaves_the_skeleton_empty()
    {
        var blocks = BlocksFromEnvironment();
        var seed = SeedFromEnvironment();
        var rng = new Random(seed);
        var corruptAt = (ulong)rng.NextInt64(1, (long)blocks + 1);
        var chainSeed = (ulong)rng.NextInt64();
        output.WriteLine($"BACKFILL_SEED={seed} BACKFILL_BLOCKS={blocks}: body #{corruptAt} corrupted");

        var headers = GeneratedChain.Headers(blocks + 1, chainSeed, bodies: BodyProfile.Mixed);
        var bodies = GeneratedChain.Bodies(headers);
        var corruptHash = headers[(int)corruptAt].Hash;
        var dataDir = Directory.CreateTempSubdirectory("es-backfill-scale-").FullName;
        try
        {
            using var chain = ChainStore.Open(Path.Combine(dataDir, "chain.db"));
            chain.Initialize(new Block(headers[0], bodies[0]!));
            var skeleton = SkeletonStore.OpenInDataDir(dataDir);
            var peers = new PeerSet(TimeProvider.System);
            var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(SpecFor(headers[0])), TimeProvider.System, NullLogger<Backfiller>.Instance);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            filler.AfterRun = head =>
            {
                if (head.Number == blocks)
                {
                    done.TrySetResult();
                }
            };
            (ulong Headers, long Bytes) before = default;
            var measured = new MeasuredFiller(filler, () => before = (CountHeaders(skeleton, blocks), SkeletonFileBytes(dataDir)));
            var sync = new SkeletonSync(skeleton, peers, measured, new ChainLink(chain), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
            long honestAskedForCorrupt = 0;
            var honest = new InProcessPeer("honest", headers, bodies)
            {
                OnRequest = (request, _) =>
                {
                    if (request.Kind == PeerRequestKind.Bodies && request.Hashes.Contains(corruptHash))
                    {
                        Interlocked.Increment(ref honestAskedForCorrupt);
                    }
                    return Task.CompletedTask;
                },
            };
            // Alone until it is asked for the corrupted body, so that answer is certain to reach the backfiller; the
            // honest peer joins at that moment, and the refetch can only come from it.
            var corrupt = new InProcessPeer("corrupt", headers, bodies)
            {
                Faults = new PeerFaults { CorruptBodyAt = corruptAt },
                OnRequest = (request, _) =>
                {
                    if (request.Kind == PeerRequestKind.Bodies && request.Hashes.Contains(corruptHash))
                    {
                        sync.AddPeer(honest);
                    }
                    return Task.CompletedTask;
                },
            };
            try
            {
                sync.AddPeer(corrupt);
                sync.Start();
                Assert.Equal(SyncRequestOutcome.Accepted, await sync.SyncAsync(headers[(int)blocks], null, force: true).WaitAsync(Bound));
                await done.Task.WaitAsync(Bound);
            }
            finally
            {
                // Stopping suspends the backfiller, which reports the last block filled; the skeleton then deletes
                // the headers it consumed (cleanStales), as a node does on shutdown or on its next head.
                await sync.DisposeAsync();
            }

            Assert.Equal(headers[(int)blocks].Hash, chain.HeadHeader.Hash);
            for (ulong n = 0; n <= blocks; n++)
            {
                if (chain.GetCanonicalHash(n) != headers[(int)n].Hash)
                {
                    Assert.Fail($"canonical #{n} is {chain.GetCanonicalHash(n)}, the source chain has {headers[(int)n].Hash}");
                }
            }
            Assert.Equal(bodies[(int)corruptAt], chain.GetBody(corruptHash));
            Assert.Equal(bodies[(int)blocks], chain.GetBody(headers[(int)blocks].Hash));
            Assert.Contains(peers.Status(), p => p.Id == "corrupt" && p.Dropped);
            Assert.True(Interlocked.Read(ref honestAskedForCorrupt) >= 1, "the corrupted body was never asked of the honest peer");

            // The consumed headers are gone: only the head stays, as the subchain's tail and head.
            Assert.Equal(new SkeletonProgress([new Subchain(blocks, blocks, headers[(int)blocks].ParentHash)], null), skeleton.LoadProgress());
            var after = CountHeaders(skeleton, blocks);
            var afterBytes = SkeletonFileBytes(dataDir);
            var saved = skeleton.Rebuild();
            var rebuiltBytes = SkeletonFileBytes(dataDir);
            Assert.Equal(after, CountHeaders(skeleton, blocks));
            skeleton.Dispose();
            var closedBytes = SkeletonFileBytes(dataDir);
            Assert.DoesNotContain(Directory.EnumerateFiles(dataDir), f => f.Contains("backup", StringComparison.Ordinal));
            output.WriteLine($"skeleton store before backfill: {before.Headers} headers, {before.Bytes:N0} bytes on disk; "
                + $"after cleanup: {after} headers, {afterBytes:N0} bytes; after Rebuild: {rebuiltBytes:N0} bytes ({saved:N0} saved), {closedBytes:N0} once closed");
            Assert.Equal(blocks, before.Headers);
            Assert.Equal(1UL, after);
            Assert.True(closedBytes < before.Bytes / 10, $"the rebuilt store is {closedBytes:N0} bytes, the full one was {before.Bytes:N0}");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static ulong CountHeaders(SkeletonStore store, ulong head)
    {
        ulong count = 0;
        for (ulong n = 1; n <= head; n++)
        {
            count += store.GetHeader(n) is null ? 0UL : 1UL;
        }
        return count;
    }

    /// <summary>skeleton.db and LiteDB's log beside it (skeleton-log.db, until a checkpoint folds it in).</summary>
    private static long SkeletonFileBytes(string dataDir) =>
        Directory.EnumerateFiles(dataDir, "skeleton*.db").Sum(f => new FileInfo(f).Length);

    private static ulong BlocksFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("BACKFILL_BLOCKS");
        if (string.IsNullOrEmpty(text))
        {
            return Environment.GetEnvironmentVariable("CI") == "true" ? CiBlocks : DefaultBlocks;
        }
        Assert.True(ulong.TryParse(text, CultureInfo.InvariantCulture, out var blocks) && blocks >= SmallestBlocks, $"BACKFILL_BLOCKS={text}: give a number of at least {SmallestBlocks}");
        return blocks;
    }

    private static int SeedFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("BACKFILL_SEED");
        if (string.IsNullOrEmpty(text))
        {
            return Random.Shared.Next();
        }
        Assert.True(int.TryParse(text, CultureInfo.InvariantCulture, out var seed), $"BACKFILL_SEED={text} is not an int");
        return seed;
    }
}
