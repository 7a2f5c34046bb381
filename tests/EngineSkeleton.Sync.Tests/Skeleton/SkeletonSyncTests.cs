using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>The skeleton loop end to end over in-process peers and an in-memory store: download, link, faults.</summary>
public sealed class SkeletonSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>A local chain that holds only its genesis.</summary>
    private sealed class GenesisOnly(BlockHeader genesis) : IChainLink
    {
        public bool IsLinked(ulong number, Hash256 hash) => number == 0 && hash == genesis.Hash;
    }

    private sealed class RecordingBackfiller : IBackfiller
    {
        public int Resumes;

        public Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

        public void Resume() => Interlocked.Increment(ref Resumes);
    }

    /// <summary>
    /// A peer that does its work before its first await, as an in-process peer or a cached answer does, and here
    /// blocks its thread until released: whoever calls it is held for as long.
    /// </summary>
    private sealed class SynchronousPeer(IReadOnlyList<BlockHeader> chain) : ISyncPeer
    {
        public readonly ManualResetEventSlim Release = new();
        public readonly TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Id => "synchronous";

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            Release.Wait(Bound, CancellationToken.None);
            var headers = new List<BlockHeader>();
            for (var n = origin; n > origin - (ulong)count; n--)
            {
                headers.Add(chain[(int)n]);
            }
            return Task.FromResult<IReadOnlyList<BlockHeader>>(headers);
        }

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

        public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<BlockBody?>>([]);
    }

    /// <summary>A peer whose answers say when every header in them has been looked at, and by then.</summary>
    private sealed class WatchedAnswerPeer(IReadOnlyList<BlockHeader> chain) : ISyncPeer
    {
        public readonly ManualResetEventSlim FirstAnswerRead = new();

        public string Id => "watched";

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
        {
            var headers = new List<BlockHeader>();
            for (var n = origin; n > origin - (ulong)count; n--)
            {
                headers.Add(chain[(int)n]);
            }
            return Task.FromResult<IReadOnlyList<BlockHeader>>(new WatchedList(headers, FirstAnswerRead));
        }

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

        public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<BlockBody?>>([]);

        private sealed class WatchedList(List<BlockHeader> headers, ManualResetEventSlim allRead) : IReadOnlyList<BlockHeader>
        {
            private readonly HashSet<int> _read = [];

            public int Count => headers.Count;

            public BlockHeader this[int index]
            {
                get
                {
                    lock (_read)
                    {
                        if (_read.Add(index) && _read.Count == headers.Count)
                        {
                            allRead.Set();
                        }
                    }
                    return headers[index];
                }
            }

            public IEnumerator<BlockHeader> GetEnumerator()
            {
                for (var i = 0; i < Count; i++)
                {
                    yield return this[i];
                }
            }

            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        }
    }

    private static async Task<SkeletonSnapshot> RunUntilLinked(SkeletonSync sync, BlockHeader head)
    {
        var linked = new TaskCompletionSource<SkeletonSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        sync.AfterEvent = s =>
        {
            if (s.Linked)
            {
                linked.TrySetResult(s);
            }
        };
        sync.Start();
        Assert.Equal(SyncRequestOutcome.Accepted, await sync.SyncAsync(head, null, force: true).WaitAsync(Bound));
        // The cycle that links ends, and the next one starts linked and says so.
        return await linked.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task The_loop_runs_every_event_on_one_thread_of_its_own_and_peers_answer_off_it()
    {
        // The single writer keeps one thread (docs/benchmarks.md: resuming on whichever pool thread was free made the
        // same writes slower), and the peers' work never runs on it.
        var chain = GeneratedChain.Headers(3_001);
        using var store = SkeletonStore.OpenInMemory();
        await using var sync = new SkeletonSync(store, new PeerSet(TimeProvider.System), new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        var peerThreads = new System.Collections.Concurrent.ConcurrentBag<int>();
        for (var i = 0; i < 2; i++)
        {
            sync.AddPeer(new InProcessPeer($"peer{i}", chain)
            {
                OnRequest = (_, _) =>
                {
                    peerThreads.Add(Environment.CurrentManagedThreadId);
                    return Task.CompletedTask;
                },
            });
        }
        var loopThreads = new System.Collections.Concurrent.ConcurrentBag<(int Id, bool Pooled, string? Name)>();
        var linked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sync.AfterEvent = s =>
        {
            loopThreads.Add((Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
            if (s.Linked)
            {
                linked.TrySetResult();
            }
        };
        sync.Start();
        Assert.Equal(SyncRequestOutcome.Accepted, await sync.SyncAsync(chain[^1], null, force: true).WaitAsync(Bound));
        await linked.Task.WaitAsync(Bound);

        var loop = Assert.Single(loopThreads.Distinct());
        Assert.False(loop.Pooled);
        Assert.Equal("skeleton sync", loop.Name);
        Assert.True(peerThreads.Count >= 6, $"{peerThreads.Count} requests for 3,000 headers in tasks of 512");
        Assert.DoesNotContain(loop.Id, peerThreads);
    }

    [Theory]
    [InlineData("a chain shorter than one request links from a single peer", 300UL, 1)]
    [InlineData("a chain of many tasks links from three peers sharing the work", 5_000UL, 3)]
    public async Task A_chain_downloads_backwards_and_links_to_genesis(string because, ulong length, int peerCount)
    {
        var chain = GeneratedChain.Headers(length + 1);
        using var store = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(TimeProvider.System);
        var filler = new RecordingBackfiller();
        await using var sync = new SkeletonSync(store, peers, filler, new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        for (var i = 0; i < peerCount; i++)
        {
            sync.AddPeer(new InProcessPeer($"peer{i}", chain));
        }

        var snapshot = await RunUntilLinked(sync, chain[(int)length]);

        Assert.True(snapshot.Linked, because);
        Assert.Equal([new Subchain(length, 1, chain[0].Hash)], store.LoadProgress()!.Subchains);
        for (ulong n = 1; n <= length; n++)
        {
            Assert.Equal(chain[(int)n].Hash, store.GetHeader(n)!.Hash);
        }
        Assert.True(filler.Resumes >= 1, "the backfiller is resumed once linked");
    }

    [Fact]
    public async Task A_peer_serving_a_changed_header_is_dropped_and_the_sync_completes_from_the_honest_one()
    {
        const ulong length = 3_000;
        var chain = GeneratedChain.Headers(length + 1);
        using var store = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(TimeProvider.System);
        await using var sync = new SkeletonSync(store, peers, new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        var liar = new InProcessPeer("liar", chain) { Faults = new PeerFaults { ChangeAt = 2_000 } };
        sync.AddPeer(liar);
        sync.AddPeer(new InProcessPeer("honest", chain));

        var snapshot = await RunUntilLinked(sync, chain[(int)length]);

        Assert.True(snapshot.Linked);
        Assert.Equal(chain[2_000].Hash, store.GetHeader(2_000)!.Hash);
        Assert.Contains(peers.Status(), p => p.Id == "liar" && p.Dropped);
    }

    [Fact]
    public async Task A_peer_that_works_synchronously_works_off_the_loop_so_heads_are_still_answered_meanwhile()
    {
        var chain = GeneratedChain.Headers(2_000);
        using var store = SkeletonStore.OpenInMemory();
        await using var sync = new SkeletonSync(store, new PeerSet(TimeProvider.System), new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        var peer = new SynchronousPeer(chain);
        sync.AddPeer(peer);
        sync.Start();
        try
        {
            await sync.SyncAsync(chain[1_000], null, force: true).WaitAsync(Bound);
            await peer.Entered.Task.WaitAsync(Bound);

            // The peer still holds the thread that called it; the loop must not be that thread.
            var outcome = await sync.SyncAsync(chain[1_001], null, force: false).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(SyncRequestOutcome.Accepted, outcome);
        }
        finally
        {
            peer.Release.Set();
        }
    }

    [Fact]
    public async Task Answers_are_checked_in_the_peer_task_so_the_loop_does_not_hash_them()
    {
        // geth's executeTask checks the hash chain in the request's goroutine; the loop only places checked answers.
        var chain = GeneratedChain.Headers(2_000);
        using var store = SkeletonStore.OpenInMemory();
        await using var sync = new SkeletonSync(store, new PeerSet(TimeProvider.System), new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        var peer = new WatchedAnswerPeer(chain);
        sync.AddPeer(peer);
        var checkedWhileLoopHeld = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The first publish of the cycle comes right after the first request went out; hold the loop there.
        sync.AfterEvent = s =>
        {
            if (s.State == SyncState.Syncing && !checkedWhileLoopHeld.Task.IsCompleted)
            {
                checkedWhileLoopHeld.TrySetResult(peer.FirstAnswerRead.Wait(TimeSpan.FromSeconds(10)));
            }
        };
        sync.Start();

        await sync.SyncAsync(chain[1_999], null, force: true).WaitAsync(Bound);

        Assert.True(await checkedWhileLoopHeld.Task.WaitAsync(Bound), "the answer was not read (checked) while the loop was held");
    }

    [Fact]
    public async Task A_non_forced_head_before_any_forced_one_is_refused()
    {
        var chain = GeneratedChain.Headers(10);
        using var store = SkeletonStore.OpenInMemory();
        await using var sync = new SkeletonSync(store, new PeerSet(TimeProvider.System), new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        sync.Start();

        var outcome = await sync.SyncAsync(chain[9], null, force: false).WaitAsync(Bound);

        Assert.Equal(SyncRequestOutcome.RefusedNotExtending, outcome);
        Assert.Null(store.LoadProgress());
    }

    [Fact]
    public async Task Progress_survives_a_restart_and_the_sync_resumes_from_it()
    {
        const ulong length = 2_000;
        var chain = GeneratedChain.Headers(length + 1);
        var dir = Directory.CreateTempSubdirectory("es-skel-").FullName;
        try
        {
            var path = Path.Combine(dir, SkeletonStore.FileName);
            using (var store = SkeletonStore.Open(path))
            {
                // First run: only a peer that withholds block 1,000 — it is dropped there and the sync gets part of the way.
                var peers = new PeerSet(TimeProvider.System);
                await using var sync = new SkeletonSync(store, peers, new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
                var progressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                sync.AfterEvent = s =>
                {
                    if (s.Progress is { Subchains: [var newest, ..] } && newest.Tail <= 1_500)
                    {
                        progressed.TrySetResult();
                    }
                };
                sync.AddPeer(new InProcessPeer("partial", chain) { Faults = new PeerFaults { WithholdAt = 1_000 } });
                sync.Start();
                await sync.SyncAsync(chain[(int)length], null, force: true).WaitAsync(Bound);
                await progressed.Task.WaitAsync(Bound);
            }
            using (var store = SkeletonStore.Open(path))
            {
                var stored = store.LoadProgress()!;
                Assert.Equal(length, stored.Subchains[0].Head);
                Assert.True(stored.Subchains[0].Tail <= 1_500);

                var peers = new PeerSet(TimeProvider.System);
                await using var sync = new SkeletonSync(store, peers, new RecordingBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
                var honest = new InProcessPeer("honest", chain);
                sync.AddPeer(honest);
                var snapshot = await RunUntilLinked(sync, chain[(int)length]);

                Assert.True(snapshot.Linked);
                Assert.Equal([new Subchain(length, 1, chain[0].Hash)], store.LoadProgress()!.Subchains);
                Assert.True(honest.HeadersServed < (long)length, $"resumed from the stored tail, served {honest.HeadersServed}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
