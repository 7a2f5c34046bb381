using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Sync.Checkpoint;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Tests.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Sync.Tests.Checkpoint;

/// <summary>
/// The checkpoint block of a fresh datadir, fetched from peers over the execution-apis chain: only a header hashing
/// to the checkpoint counts, its number and era are checked, its body must match it, and lying peers cost themselves.
/// </summary>
public sealed class CheckpointFetcherTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly IReadOnlyList<Block> Chain =
        [.. Enumerable.Range(0, ExecutionApisChain.Blocks.Count + 1).Select(n => ExecutionApisChain.At((ulong)n))];

    /// <summary>
    /// Serves the chain, but every body with one transaction more than its header committed to. Its id comes before
    /// "honest", as peers of equal rates are asked in id order.
    /// </summary>
    private sealed class WrongBodies(InProcessPeer inner) : BodiesAlteringPeer(inner, "a-wrong-bodies")
    {
        public override async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) =>
            [.. (await Inner.GetBodiesAsync(hashes, cancellationToken)).Select(b => b is null ? null : b with { Transactions = [.. b.Transactions, [0xc0]] })];
    }

    private static InProcessPeer Honest(string id, PeerFaults? faults = null) =>
        new(id, [.. Chain.Select(b => b.Header)], [.. Chain.Select(b => (BlockBody?)b.Body)]) { Faults = faults ?? PeerFaults.None };

    private static (CheckpointFetcher Fetcher, PeerSet Peers) Fetcher(params ISyncPeer[] peers)
    {
        var set = new PeerSet(TimeProvider.System);
        foreach (var peer in peers)
        {
            set.Add(peer);
        }
        return (new CheckpointFetcher(set, new BlockValidator(ExecutionApisChain.Spec), TimeProvider.System, NullLogger<CheckpointFetcher>.Instance), set);
    }

    private static SyncCheckpoint At(ulong number) => new(number, Chain[(int)number].Header.Hash);

    [Fact]
    public async Task A_peer_lacking_the_block_is_passed_over_and_the_next_one_serves_it()
    {
        var lacking = Honest("a-lacking", new PeerFaults { Empty = true }); // asked first: ids break ties
        var (fetcher, _) = Fetcher(lacking, Honest("honest"));

        var result = await fetcher.FetchAsync(At(45), Bound, CancellationToken.None).WaitAsync(Bound);

        Assert.Null(result.Error);
        Assert.Equal(1, lacking.Requests);
        Assert.Equal(Chain[45].Header.Hash, result.Block!.Header.Hash);
        Assert.Equal(Chain[45].Body.Transactions, result.Block.Body.Transactions);
    }

    [Fact]
    public async Task A_peer_serving_a_body_that_breaks_the_header_is_dropped_and_an_honest_one_serves_it()
    {
        var liar = new WrongBodies(Honest("inner"));
        var (fetcher, peers) = Fetcher(liar, Honest("honest"));

        var result = await fetcher.FetchAsync(At(47), Bound, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(Chain[47].Body.Transactions, result.Block!.Body.Transactions);
        Assert.Contains(peers.Status(), p => p.Id == "a-wrong-bodies" && p.Dropped);
    }

    [Theory]
    [InlineData("a number the hash's block does not have names the real one", 40UL, 41UL, "is #40, not #41")]
    [InlineData("a proof-of-work block is refused: the checkpoint anchors post-merge history", 20UL, 20UL, "proof-of-work")]
    public async Task A_checkpoint_that_is_wrong_itself_is_refused_with_the_reason(string proves, ulong block, ulong claimed, string reason)
    {
        var (fetcher, _) = Fetcher(Honest("honest"));

        var result = await fetcher.FetchAsync(new SyncCheckpoint(claimed, Chain[(int)block].Header.Hash), Bound, CancellationToken.None).WaitAsync(Bound);

        Assert.True(result.Block is null, proves);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_peer_having_it_within_the_bound_is_an_error_naming_the_checkpoint()
    {
        var (fetcher, _) = Fetcher(Honest("lacking", new PeerFaults { Empty = true }));

        var result = await fetcher.FetchAsync(At(45), TimeSpan.FromMilliseconds(50), CancellationToken.None).WaitAsync(Bound);

        Assert.Null(result.Block);
        Assert.Contains($"no peer served checkpoint block #45 {Chain[45].Header.Hash}", result.Error, StringComparison.Ordinal);
    }
}
