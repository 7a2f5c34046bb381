using System.Collections.Concurrent;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Hosting;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.DependencyInjection;

namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// --sync.checkpoint NUMBER:HASH on the real node (README.md (flags)): a fresh datadir fetches the checkpoint block from its
/// peer and starts its chain there; the skeleton links to it, nothing below it is asked for or served, and the head
/// above it ends VALID. A used datadir keeps its anchor and refuses another.
/// </summary>
public sealed class CheckpointSyncTests : IDisposable
{
    private const ulong Checkpoint = 1_000;
    private const ulong Head = 1_600;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Every fork through Prague at genesis, proof-of-stake from the start: the shape GeneratedChain follows.</summary>
    private const string GenesisJson = """
        {
          "config": {
            "chainId": 31337, "londonBlock": 0, "mergeNetsplitBlock": 0, "terminalTotalDifficulty": 0,
            "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0
          },
          "timestamp": "0x684ee180", "gasLimit": "0x2255100", "difficulty": "0x0", "extraData": "0x", "alloc": {}
        }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("es-checkpoint-").FullName;
    private readonly string _genesisFile;
    private readonly IReadOnlyList<BlockHeader> _chain;
    private readonly Dictionary<Hash256, ulong> _numbers = [];
    private readonly ConcurrentQueue<PeerRequest> _requests = new();

    public CheckpointSyncTests()
    {
        _genesisFile = Path.Combine(_dir, "genesis.json");
        File.WriteAllText(_genesisFile, GenesisJson);
        _chain = GeneratedChain.Headers(Head + 1, seed: 5, genesis: GethGenesis.Load(_genesisFile).Header);
        for (var n = 0; n < _chain.Count; n++)
        {
            _numbers[_chain[n].Hash] = (ulong)n;
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CheckpointFlag(ulong number) => $"{number}:{_chain[(int)number].Hash}";

    /// <summary>A peer serving the whole chain that logs every request it gets.</summary>
    private InProcessPeer LoggingPeer() => new("full-history", _chain, GeneratedChain.Bodies(_chain))
    {
        OnRequest = (request, _) =>
        {
            _requests.Enqueue(request);
            return Task.CompletedTask;
        },
    };

    /// <summary>The lowest block number a request asked about (headers: the bottom of the range; bodies, by hash: the lowest hash's).</summary>
    private ulong LowestAsked(PeerRequest request) => request.Kind == PeerRequestKind.HeadersReverse
        ? request.Origin - (ulong)request.Count + 1
        : request.Hashes.Min(h => _numbers[h]);

    private static async Task<string?> HashAt(TestNode node, string block)
    {
        var result = (await node.Public("eth_getBlockByNumber", block, false)).Result();
        return result.ValueKind == JsonValueKind.Null ? null : result.GetProperty("hash").GetString();
    }

    [Fact]
    public async Task A_fresh_node_anchored_at_a_checkpoint_syncs_a_head_above_it_to_VALID_and_never_asks_below_it()
    {
        await using var node = await TestNode.StartAsync(_genesisFile, [LoggingPeer()], "--sync.checkpoint", CheckpointFlag(Checkpoint));

        Assert.Equal(PayloadWriter.Q(Checkpoint), (await node.Public("eth_blockNumber")).Result().GetString());
        Assert.Equal(_chain[(int)Checkpoint].Hash.ToString(), await HashAt(node, PayloadWriter.Q(Checkpoint)));
        Assert.Null(await HashAt(node, PayloadWriter.Q(Checkpoint - 1)));
        Assert.Null(await HashAt(node, "earliest"));

        var filled = node.Backfilled(Head);
        var first = await node.ForkchoiceStartingSync(_chain[(int)Head].Hash);
        Assert.Equal("SYNCING", first.FcuStatus());
        await filled.WaitAsync(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(_chain[(int)Head].Hash), null);

        Assert.Equal("VALID", last.FcuStatus());
        foreach (var n in new[] { Checkpoint + 1, Checkpoint + 512, Head })
        {
            Assert.Equal(_chain[(int)n].Hash.ToString(), await HashAt(node, PayloadWriter.Q(n)));
        }
        Assert.Contains(_requests, r => r.Kind == PeerRequestKind.HeadersReverse);
        Assert.All(_requests, r => Assert.True(
            r.Kind == PeerRequestKind.HeadersReverse ? LowestAsked(r) > Checkpoint : LowestAsked(r) >= Checkpoint,
            $"{r.Kind} reached down to #{LowestAsked(r)}, below the checkpoint #{Checkpoint}"));
    }

    [Fact]
    public async Task A_datadir_keeps_its_checkpoint_anchor_across_restarts_and_refuses_another()
    {
        var dataDir = Path.Combine(_dir, "data");
        await using (var first = Build(dataDir, "--sync.checkpoint", CheckpointFlag(Checkpoint)))
        {
            first.App.Services.GetRequiredService<SkeletonSync>().AddPeer(LoggingPeer());
            await first.StartAsync().WaitAsync(Bound);
            Assert.Equal(_chain[(int)Checkpoint].Hash, first.Store.HeadHeader.Hash);
        }

        // Restarted with the same checkpoint and no peer at all: the anchor is in the datadir, nothing is fetched.
        await using (var again = Build(dataDir, "--sync.checkpoint", CheckpointFlag(Checkpoint)))
        {
            await again.StartAsync().WaitAsync(Bound);
            Assert.Equal(_chain[(int)Checkpoint].Hash, again.Store.AnchorHeader.Hash);
        }

        var other = Assert.Throws<StartupException>(() => Build(dataDir, "--sync.checkpoint", CheckpointFlag(Checkpoint + 5)));
        var genesis = Assert.Throws<StartupException>(() => Build(dataDir));

        Assert.Contains($"anchored at {_chain[(int)Checkpoint].Hash}", other.Message, StringComparison.Ordinal);
        Assert.Contains($"anchored at {_chain[(int)Checkpoint].Hash}", genesis.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_whose_number_is_wrong_stops_startup_with_the_real_number()
    {
        var wrong = $"{Checkpoint + 1}:{_chain[(int)Checkpoint].Hash}";
        await using var host = Build(Path.Combine(_dir, "data"), "--sync.checkpoint", wrong);
        host.App.Services.GetRequiredService<SkeletonSync>().AddPeer(LoggingPeer());

        var e = await Assert.ThrowsAsync<StartupException>(() => host.StartAsync().WaitAsync(Bound));

        Assert.Contains($"is #{Checkpoint}, not #{Checkpoint + 1}", e.Message, StringComparison.Ordinal);
    }

    private NodeHost Build(string dataDir, params string[] extra) => NodeHost.Build(
    [
        "--datadir", dataDir,
        "--genesis", _genesisFile,
        "--authrpc.port", "0",
        "--http.port", "0",
        "--port", "0",
        "--p2p.addr", "127.0.0.1",
        "--nodiscover",
        "--verbosity", "warn",
        .. extra,
    ]);
}
