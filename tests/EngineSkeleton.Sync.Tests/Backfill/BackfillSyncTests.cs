using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Sync.Tests.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Sync.Tests.Backfill;

/// <summary>From a head the node does not have to that head being canonical: skeleton, link, backfill, in process.</summary>
public sealed class BackfillSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Serves the honest chain's headers but bodies with a transaction the headers never committed to; the first time
    /// it is asked for bodies it lets the honest peer join, so the corrupt answer is certain to be seen first.
    /// </summary>
    private sealed class CorruptBodies(InProcessPeer inner, Action onFirstBodies, string id = "corrupt-bodies") : BodiesAlteringPeer(inner, id)
    {
        private int _asked;

        public override async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
        {
            var bodies = await Inner.GetBodiesAsync(hashes, cancellationToken);
            if (Interlocked.Exchange(ref _asked, 1) == 0)
            {
                onFirstBodies();
            }
            return [.. bodies.Select(b => b is null ? null : b with { Transactions = [[0xc0]] })];
        }
    }

    [Theory]
    [InlineData("an honest peer fills every body and the announced head becomes canonical", false)]
    [InlineData("a peer serving bodies that break their roots is dropped and the bodies come from the honest one", true)]
    public async Task A_forced_head_ends_canonical_with_every_block_held(string because, bool withCorruptPeer)
    {
        const ulong length = 1_500;
        var headers = GeneratedChain.Headers(length + 1);
        var bodies = GeneratedChain.Bodies(headers);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], bodies[0]!));
        using var skeleton = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(TimeProvider.System);
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), TimeProvider.System, NullLogger<Backfiller>.Instance);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRun = head =>
        {
            if (head.Number == length)
            {
                done.TrySetResult();
            }
        };
        await using var sync = new SkeletonSync(skeleton, peers, filler, new ChainLink(chain), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        var honest = new InProcessPeer("honest", headers, bodies);
        if (withCorruptPeer)
        {
            // Alone at first: it serves every header and is the only one the backfiller can ask.
            sync.AddPeer(new CorruptBodies(new InProcessPeer("inner", headers, bodies), () => sync.AddPeer(honest)));
        }
        else
        {
            sync.AddPeer(honest);
        }
        sync.Start();

        await sync.SyncAsync(headers[(int)length], null, force: true).WaitAsync(Bound);
        await done.Task.WaitAsync(Bound);

        Assert.Equal(headers[(int)length].Hash, chain.HeadHeader.Hash);
        for (ulong n = 0; n <= length; n++)
        {
            Assert.True(chain.GetCanonicalHash(n) == headers[(int)n].Hash, $"{because}: block {n}");
        }
        if (withCorruptPeer)
        {
            Assert.Contains(peers.Status(), p => p.Id == "corrupt-bodies" && p.Dropped);
        }
    }

    [Fact]
    public async Task A_forced_head_on_a_branch_forking_100_blocks_below_the_filled_head_rewinds_the_canonical_chain_onto_it()
    {
        var main = GeneratedChain.Headers(301);
        var fork = GeneratedChain.Fork(main, atNumber: 200, length: 120, seed: 1); // 0..320, shares 0..200
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(main[0], GeneratedChain.EmptyBody));
        using var skeleton = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(TimeProvider.System);
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(main)), TimeProvider.System, NullLogger<Backfiller>.Instance);
        var reached = new Dictionary<Hash256, TaskCompletionSource>
        {
            [main[300].Hash] = new(TaskCreationOptions.RunContinuationsAsynchronously),
            [fork[320].Hash] = new(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        filler.AfterRun = head => reached.GetValueOrDefault(head.Hash)?.TrySetResult();
        await using var sync = new SkeletonSync(skeleton, peers, filler, new ChainLink(chain), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        sync.AddPeer(new InProcessPeer("main", main, GeneratedChain.Bodies(main)));
        sync.Start();
        await sync.SyncAsync(main[300], null, force: true).WaitAsync(Bound);
        await reached[main[300].Hash].Task.WaitAsync(Bound);

        sync.AddPeer(new InProcessPeer("fork", fork, GeneratedChain.Bodies(fork)));
        await sync.SyncAsync(fork[320], null, force: true).WaitAsync(Bound);
        await reached[fork[320].Hash].Task.WaitAsync(Bound);

        Assert.Equal(fork[320].Hash, chain.HeadHeader.Hash);
        for (var n = 0; n <= 320; n++)
        {
            Assert.True(chain.GetCanonicalHash((ulong)n) == fork[n].Hash, $"block {n} is the new branch's");
        }
        Assert.True(chain.HasBlock(main[300].Hash)); // the old branch stays stored, off the canonical index
    }

    [Fact]
    public async Task Runs_go_to_several_peers_at_once_and_a_peer_corrupting_bodies_is_dropped_without_changing_the_chain()
    {
        const int length = 1_500;
        var headers = GeneratedChain.Headers(length + 1);
        var bodies = GeneratedChain.Bodies(headers);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], bodies[0]!));
        using var skeleton = LinkedSkeleton(headers, length);
        var peers = new PeerSet(TimeProvider.System);
        // Each honest peer holds its first body request until the other has one too: a backfiller that asks one peer
        // at a time leaves the first waiting until its timeout, and it is dropped.
        var asked = new[] { new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var honest = new[] { new InProcessPeer("honest-a", headers, bodies), new InProcessPeer("honest-b", headers, bodies) };
        for (var i = 0; i < 2; i++)
        {
            var (mine, other) = (asked[i], asked[1 - i]);
            honest[i].OnRequest = async (request, token) =>
            {
                if (request.Kind == PeerRequestKind.Bodies && mine.TrySetResult())
                {
                    await other.Task.WaitAsync(token);
                }
            };
            peers.Add(honest[i]);
        }
        peers.Add(new CorruptBodies(new InProcessPeer("inner", headers, bodies), () => { }, "corrupt"));
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), TimeProvider.System, NullLogger<Backfiller>.Instance);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRun = head =>
        {
            if (head.Number == length)
            {
                done.TrySetResult();
            }
        };

        filler.Resume();
        await done.Task.WaitAsync(Bound);

        for (var n = 0; n <= length; n++)
        {
            Assert.True(chain.GetCanonicalHash((ulong)n) == headers[n].Hash, $"block {n}");
        }
        var status = peers.Status();
        Assert.Contains(status, p => p.Id == "corrupt" && p.Dropped);
        Assert.All(status.Where(p => p.Id.StartsWith("honest", StringComparison.Ordinal)), p => Assert.False(p.Dropped, $"{p.Id}: {p.DropReason}"));
        Assert.All(honest, p => Assert.True(p.BodiesServed > 0, $"{p.Id} served no bodies"));
        var last = await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(headers[length].Hash, last?.Hash);
    }

    [Fact]
    public async Task A_block_breaking_a_header_rule_is_remembered_with_its_descendants_and_the_head_is_not_chased_again()
    {
        var headers = GeneratedChain.ForkWithBadHeader(GeneratedChain.Headers(1), atNumber: 0, length: 300, seed: 1, badAt: 150);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], GeneratedChain.EmptyBody));
        using var skeleton = LinkedSkeleton(headers, 300);
        var peers = new PeerSet(TimeProvider.System);
        var peer = new InProcessPeer("peer", headers, GeneratedChain.Bodies(headers));
        peers.Add(peer);
        var invalid = new InvalidBlocks();
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), TimeProvider.System, NullLogger<Backfiller>.Instance, invalid);
        var refused = new TaskCompletionSource<FillRefusal>(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRefusal = (_, why) => refused.TrySetResult(why);

        filler.Resume();
        Assert.Equal(FillRefusal.InvalidBlock, await refused.Task.WaitAsync(Bound));
        await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(headers[149].Hash, chain.HeadHeader.Hash);
        foreach (var n in new[] { 150, 151, 222, 300 })
        {
            Assert.True(invalid.TryGet(headers[n].Hash, out var lastValid), $"block {n} is refused");
            Assert.Equal(headers[149].Hash, lastValid);
        }
        Assert.False(invalid.TryGet(headers[149].Hash, out _));
        var requests = peer.Requests;
        filler.Resume();
        await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(requests, peer.Requests);
    }

    [Fact]
    public async Task A_skeleton_filled_by_an_earlier_process_is_reported_as_filled_so_its_headers_can_be_deleted()
    {
        const int length = 300;
        var headers = GeneratedChain.Headers(length + 1);
        var bodies = GeneratedChain.Bodies(headers);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(new Block(headers[0], bodies[0]!));
        chain.WriteBlocks([.. Enumerable.Range(1, length).Select(n => new Block(headers[n], bodies[n]!))]);
        chain.SetForkchoice(headers[length], null, null);
        using var skeleton = LinkedSkeleton(headers, length);
        var peers = new PeerSet(TimeProvider.System);
        var peer = new InProcessPeer("peer", headers, bodies);
        peers.Add(peer);
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(GeneratedChain.SpecFor(headers)), TimeProvider.System, NullLogger<Backfiller>.Instance);

        filler.Resume();
        var last = await filler.SuspendAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(headers[length].Hash, last?.Hash);
        Assert.Equal(0L, peer.Requests);
    }

    /// <summary>A skeleton store holding headers 1..<paramref name="head"/> as one subchain hanging off the genesis.</summary>
    private static SkeletonStore LinkedSkeleton(IReadOnlyList<BlockHeader> headers, int head)
    {
        var skeleton = SkeletonStore.OpenInMemory();
        skeleton.WriteBatch([.. Enumerable.Range(1, head).Reverse().Select(n => headers[n])], new SkeletonProgress([new Subchain((ulong)head, 1, headers[0].Hash)], null));
        return skeleton;
    }
}
