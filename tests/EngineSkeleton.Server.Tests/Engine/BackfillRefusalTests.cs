using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.DependencyInjection;

namespace EngineSkeleton.Server.Tests.Engine;

/// <summary>
/// What the backfiller refuses, as the beacon node sees it through the Engine API over HTTP: a branch with an invalid
/// header answers INVALID with the last valid ancestor, and a head that would reorg below the finalized block -38006.
/// The node syncs from an in-process peer serving a generated chain on its own genesis.
/// </summary>
public sealed class BackfillRefusalTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Every fork through Prague at genesis, as GeneratedChain's headers expect; no alloc.</summary>
    private const string GenesisJson = """
        {
          "config": {
            "chainId": 1337, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0, "berlinBlock": 0,
            "londonBlock": 0, "terminalTotalDifficulty": 0, "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0
          },
          "difficulty": "0x0", "gasLimit": "0x2255100", "timestamp": "0x684ee180", "extraData": "0x", "alloc": {}
        }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("es-genesis-").FullName;
    private TestNode? _node;

    private TestNode Node => _node!;

    private BlockHeader Genesis => Node.Host.Chain.Anchor.Header;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "genesis.json");
        await File.WriteAllTextAsync(path, GenesisJson);
        _node = await TestNode.StartWithGenesisAsync(path);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_branch_with_an_invalid_header_answers_INVALID_at_it_and_every_descendant_with_the_block_below_it()
    {
        var main = GeneratedChain.Headers(151, seed: 0, Genesis);
        var bad = GeneratedChain.ForkWithBadHeader(main, atNumber: 150, length: 151, seed: 1, badAt: 200); // 0..301
        var refused = Hook(FillRefusal.InvalidBlock);
        AddPeer(new InProcessPeer("bad-branch", bad, GeneratedChain.Bodies(bad)));

        Assert.Equal("SYNCING", (await Fcu(bad[300].Hash)).FcuStatus());
        await refused.WaitAsync(Bound);

        var lastValid = bad[199].Hash.ToString();
        foreach (var (number, because) in new[] { (300, "the skeleton head"), (250, "a skeleton header between"), (200, "the bad block itself") })
        {
            var fcu = await Fcu(bad[number].Hash);
            Assert.True(fcu.FcuStatus() == "INVALID", $"{because}: {fcu}");
            Assert.Equal(lastValid, fcu.Result().GetProperty("payloadStatus").GetProperty("latestValidHash").GetString());
        }
        foreach (var (number, because) in new[] { (301, "a child of the skeleton head"), (260, "a skeleton header between") })
        {
            var (method, args) = PayloadWriter.NewPayload(new Block(bad[number], GeneratedChain.EmptyBody));
            var status = await Node.Engine(method, args);
            Assert.True(status.Status() == "INVALID", $"{because}: {status}");
            Assert.Equal(lastValid, status.Result().GetProperty("latestValidHash").GetString());
        }
        Assert.Equal(bad[199].Hash, Node.Host.Store.HeadHeader.Hash); // the valid blocks below it were filled
        Assert.False(Node.Host.Store.HasBlock(bad[200].Hash));

        // A forced head on another branch restarts the sync: it forks below the filled head, which is rewound.
        var good = GeneratedChain.Fork(bad, atNumber: 180, length: 40, seed: 2);
        var filled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Backfiller.AfterRun = head =>
        {
            if (head.Hash == good[220].Hash)
            {
                filled.TrySetResult();
            }
        };
        AddPeer(new InProcessPeer("good-branch", good, GeneratedChain.Bodies(good)));
        Assert.Equal("SYNCING", (await Fcu(good[220].Hash)).FcuStatus());
        await filled.Task.WaitAsync(Bound);
        Assert.Equal("VALID", (await Fcu(good[220].Hash)).FcuStatus());
        for (var n = 0; n <= 220; n++)
        {
            Assert.True(Node.Host.Store.GetCanonicalHash((ulong)n) == good[n].Hash, $"block {n} is the new branch's");
        }
    }

    [Fact]
    public async Task A_stored_branch_forking_below_finalized_is_refused_with_too_deep_reorg_and_nothing_changes()
    {
        var main = SeedWithFinalized(200, finalized: 150);
        var side = GeneratedChain.Fork(main, atNumber: 100, length: 60, seed: 3);
        Node.Host.Store.WriteBlocks([.. Enumerable.Range(101, 60).Select(n => new Block(side[n], GeneratedChain.EmptyBody))]);

        var response = await Fcu(side[160].Hash);

        Assert.Equal(-38006, response.ErrorCode());
        Assert.Equal("Too deep reorg", response.GetProperty("error").GetProperty("message").GetString());
        AssertUnchanged(main, 200, 150);
    }

    [Fact]
    public async Task An_unknown_branch_the_sync_links_below_finalized_is_refused_with_too_deep_reorg_and_nothing_changes()
    {
        var main = SeedWithFinalized(200, finalized: 150);
        var side = GeneratedChain.Fork(main, atNumber: 100, length: 150, seed: 4);
        var refused = Hook(FillRefusal.TooDeepReorg);
        AddPeer(new InProcessPeer("side-branch", side, GeneratedChain.Bodies(side)));

        Assert.Equal("SYNCING", (await Fcu(side[250].Hash)).FcuStatus()); // where it links is not known yet
        await refused.WaitAsync(Bound);
        var response = await Fcu(side[250].Hash);

        Assert.Equal(-38006, response.ErrorCode());
        AssertUnchanged(main, 200, 150);
    }

    private Backfiller Backfiller => (Backfiller)Node.Host.App.Services.GetRequiredService<IBackfiller>();

    private void AddPeer(ISyncPeer peer) => Node.Host.App.Services.GetRequiredService<SkeletonSync>().AddPeer(peer);

    private Task Hook(FillRefusal kind)
    {
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Backfiller.AfterRefusal = (_, why) =>
        {
            if (why == kind)
            {
                refused.TrySetResult();
            }
        };
        return refused.Task;
    }

    private Task<System.Text.Json.JsonElement> Fcu(Hash256 head) =>
        Node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head), null);

    /// <summary>Blocks 1..<paramref name="head"/> of a generated chain canonical, <paramref name="finalized"/> finalized.</summary>
    private IReadOnlyList<BlockHeader> SeedWithFinalized(int head, int finalized)
    {
        var main = GeneratedChain.Headers((ulong)head + 1, seed: 0, Genesis);
        Node.Host.Store.WriteCanonical([.. Enumerable.Range(1, head).Select(n => new Block(main[n], GeneratedChain.EmptyBody))]);
        Node.Host.Store.SetForkchoice(main[head], main[finalized].Hash, main[finalized].Hash);
        return main;
    }

    private void AssertUnchanged(IReadOnlyList<BlockHeader> main, int head, int finalized)
    {
        var store = Node.Host.Store;
        Assert.Equal(main[head].Hash, store.HeadHeader.Hash);
        Assert.Equal(main[finalized].Hash, store.FinalizedHash);
        for (var n = 0; n <= head; n++)
        {
            Assert.True(store.GetCanonicalHash((ulong)n) == main[n].Hash, $"block {n} is still the canonical chain's");
        }
    }
}
