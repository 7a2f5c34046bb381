using EngineSkeleton.Blocks;
using EngineSkeleton.Chain;
using EngineSkeleton.Primitives;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Validation;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Tests.Sync;

/// <summary>From a head the node does not have to that head being canonical: skeleton, link, backfill, in process.</summary>
public sealed class BackfillSyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>The fork schedule GeneratedChain's headers follow: London from genesis, Prague-shaped from genesis.</summary>
    private static ChainSpec SpecFor(BlockHeader genesis) => new()
    {
        Name = "generated",
        ChainId = 1,
        GenesisHash = genesis.Hash,
        LondonBlock = 0,
        ShanghaiTime = 0,
        CancunTime = 0,
        PragueTime = 0,
        BlobSchedule = [(0, BlobParameters.Cancun), (0, BlobParameters.Prague)],
    };

    /// <summary>
    /// Serves the honest chain's headers but bodies with a transaction the headers never committed to; the first time
    /// it is asked for bodies it lets the honest peer join, so the corrupt answer is certain to be seen first.
    /// </summary>
    private sealed class CorruptBodies(InProcessPeer inner, Action onFirstBodies) : ISyncPeer
    {
        private int _asked;

        public string Id => "corrupt-bodies";

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken) =>
            inner.GetHeadersReverseAsync(origin, count, cancellationToken);

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) =>
            inner.GetHeaderByHashAsync(hash, cancellationToken);

        public async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
        {
            var bodies = await inner.GetBodiesAsync(hashes, cancellationToken);
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
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(SpecFor(headers[0])), TimeProvider.System, NullLogger<Backfiller>.Instance);
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
}
