using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): the JSON fallback of <see cref="RpcSyncPeer"/> against hardhat 3, which
/// serves no debug_ methods at all (docs/peers.md), on an Osaka chain of at least 1,000 blocks mined with evm_mine in
/// batches (issue 4). Every header is rebuilt from hardhat's JSON and must hash to hardhat's own hash; then the sync
/// pipeline (beacon sync, skeleton, backfill) reaches hardhat's head from it.
/// </summary>
/// <remarks>
/// Our server cannot be anchored on hardhat's genesis: hardhat's block 0 carries keccak256 of the empty string as its
/// transactions root where every other client has the empty trie root, and a geth genesis.json has no field to say
/// so (the third test pins this down). So here the pipeline runs in-process, anchored on the genesis header rebuilt
/// from hardhat's JSON, composed as NodeHost composes it, and driven the way forkchoiceUpdated drives it; the real
/// server process syncs the same chain from a checkpoint at block 1 in <see cref="HardhatCheckpointSyncTests"/>.
/// </remarks>
[Collection(HardhatChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class HardhatFallbackSyncTests(HardhatChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>A guard against a hung node, never a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);

    /// <summary>The whole pipeline on 1,000 blocks takes a few seconds here; a loaded CI box gets a wide margin.</summary>
    private static readonly TimeSpan SyncBound = TimeSpan.FromMinutes(3);

    /// <summary>The skeleton's request size (docs/sync.md).</summary>
    private const int RequestHeaders = 512;

    [Fact(DisplayName = "RpcSyncPeer on hardhat 3 (no debug_ methods): every header of the Osaka chain, genesis included, rebuilt from JSON hashes to hardhat's own hash; bodies match their roots")]
    public async Task Every_header_rebuilt_from_hardhat_json_hashes_to_hardhats_own_hash()
    {
        var chain = fixture.Chain;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(fixture.Node.RpcUrl, http);

        var headers = new List<BlockHeader>();
        for (var origin = chain.Head; origin >= 0; origin -= RequestHeaders)
        {
            var count = (int)Math.Min(RequestHeaders, origin + 1);
            var batch = await peer.GetHeadersReverseAsync((ulong)origin, count, CancellationToken.None).WaitAsync(Hang);
            Assert.True(batch.Count == count, $"headers from {origin}: asked {count}, got {batch.Count}");
            headers.AddRange(batch);
        }

        output.WriteLine($"hardhat capabilities: {peer.Capabilities}; {headers.Count} headers rebuilt from JSON");
        Assert.Equal(new RpcNodeCapabilities(RawHeaders: false, RawBlocks: false), peer.Capabilities);
        Assert.Equal(chain.Blocks.Select(b => b.Hash).Reverse(), headers.Select(h => h.Hash.ToString()));
        Assert.Equal(chain.Blocks.Select(b => b.ParentHash).Reverse(), headers.Select(h => h.ParentHash.ToString()));
        Assert.All(headers, h => Assert.NotNull(h.RequestsHash)); // Prague/Osaka headers: every post-merge field rebuilt

        var withTransactions = chain.Blocks.Where(b => b.TransactionCount > 0).ToList();
        Assert.True(withTransactions.Count >= 3, $"mine.mjs should have put transactions in {withTransactions.Count} > 2 blocks");
        var bodies = await peer.GetBodiesAsync([.. withTransactions.Select(b => Hash256.FromHex(b.Hash))], CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(withTransactions.Count, bodies.Count);
        for (var i = 0; i < withTransactions.Count; i++)
        {
            var header = headers.Single(h => h.Hash.ToString() == withTransactions[i].Hash);
            var body = Assert.IsType<BlockBody>(bodies[i]);
            Assert.Equal(withTransactions[i].TransactionCount, body.Transactions.Count);
            Assert.Equal(header.TransactionsRoot, TrieRoots.OfList(body.Transactions));
            Assert.Equal(header.WithdrawalsRoot, TrieRoots.OfWithdrawals(body.Withdrawals!));
        }
    }

    [Fact(DisplayName = "Told the head the way forkchoiceUpdated tells it, the sync pipeline anchored on hardhat's genesis syncs from hardhat over JSON and ends on its head with every hash hardhat's")]
    public async Task The_sync_pipeline_reaches_hardhats_head_over_the_json_fallback()
    {
        var chain = fixture.Chain;
        var head = (ulong)chain.Head;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(fixture.Node.RpcUrl, http);
        var genesis = await peer.GetHeaderByHashAsync(Hash256.FromHex(chain.GenesisHash), CancellationToken.None).WaitAsync(Hang);
        Assert.NotNull(genesis);
        var spec = GethGenesis.Load(chain.GenesisFile).Spec with { GenesisHash = genesis.Hash };

        var dataDir = Directory.CreateTempSubdirectory("engineskeleton-e2e-hardhat-sync-").FullName;
        try
        {
            using var store = ChainStore.Open(Path.Combine(dataDir, "chain.db"));
            store.Initialize(new Block(genesis, new BlockBody([], [], [])));
            using var skeletonStore = SkeletonStore.OpenInDataDir(dataDir);
            var peers = new PeerSet(TimeProvider.System);
            var backfiller = new Backfiller(store, skeletonStore, peers, new BlockValidator(spec), TimeProvider.System, NullLogger<Backfiller>.Instance);
            var reachedHead = new TaskCompletionSource<BlockHeader>(TaskCreationOptions.RunContinuationsAsynchronously);
            backfiller.AfterRun = filled =>
            {
                if (filled.Number >= head)
                {
                    reachedHead.TrySetResult(filled);
                }
            };
            await using var skeleton = new SkeletonSync(skeletonStore, peers, backfiller, new ChainLink(store), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
            var beacon = new BeaconSync(skeleton, peers, hash => store.GetHeader(hash)?.Number);
            skeleton.AddPeer(peer);
            skeleton.Start();

            // What ForkchoiceUpdatedHandler does with an unknown head: the header by hash from peers, then a forced sync.
            var headHash = Hash256.FromHex(chain.HeadBlock.Hash);
            var headHeader = await beacon.FetchHeaderAsync(headHash, TimeSpan.FromSeconds(30));
            Assert.True(headHeader is not null, $"hardhat did not give the head {headHash} by hash: {beacon.Status()}");
            Assert.Equal(SyncRequestOutcome.Accepted, await beacon.SyncAsync(headHeader, genesis.Hash, force: true).WaitAsync(Hang));

            try
            {
                await reachedHead.Task.WaitAsync(SyncBound);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"not at hardhat's head {head} within {SyncBound}: local head {store.HeadHeader.Number}, {beacon.Status()}");
            }

            output.WriteLine($"synced {head} hardhat blocks: {beacon.Status()}");
            Assert.Equal(headHash, store.HeadHeader.Hash);
            foreach (var block in chain.Blocks)
            {
                var hash = Hash256.FromHex(block.Hash);
                Assert.True(store.GetCanonicalHash((ulong)block.Number) == hash, $"block {block.Number}: ours {store.GetCanonicalHash((ulong)block.Number)}, hardhat's {hash}");
                Assert.True(store.HasBlock(hash), $"block {block.Number} {hash} has no body in our store");
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact(DisplayName = "hardhat's genesis is the genesis.json read back from it except one field a genesis.json cannot carry: transactionsRoot = keccak256(\"\")")]
    public async Task Hardhats_genesis_differs_from_a_geth_genesis_only_in_its_transactions_root()
    {
        var chain = fixture.Chain;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var hardhat = await new RpcSyncPeer(fixture.Node.RpcUrl, http).GetHeaderByHashAsync(Hash256.FromHex(chain.GenesisHash), CancellationToken.None).WaitAsync(Hang);
        Assert.NotNull(hardhat);
        var ours = GethGenesis.Load(chain.GenesisFile).Header;

        // The alloc read back (funded accounts, the EIP-4788 and EIP-2935 code hardhat deploys) is the whole state.
        Assert.Equal(hardhat.StateRoot, ours.StateRoot);
        // If hardhat ever hashes its genesis like geth, this fails: then start our server on the genesis file instead.
        Assert.Equal(Keccak256.OfEmpty, hardhat.TransactionsRoot);
        Assert.Equal(Keccak256.EmptyTrieRoot, ours.TransactionsRoot);
        Assert.Equal(hardhat, ours with { TransactionsRoot = hardhat.TransactionsRoot });
        Assert.Equal(hardhat.Hash, (ours with { TransactionsRoot = hardhat.TransactionsRoot }).Hash);
    }
}
