using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>What we serve for a header or body query, as geth serves it (eth/protocols/eth handlers.go).</summary>
public sealed class EthServingTests
{
    private static readonly MemoryEthChain Chain = new(54, head: 40);

    public static TheoryData<string, ulong?, ulong?, ulong, ulong, bool, ulong[]> Queries => new()
    {
        // sentence, origin number, origin block (asked by its hash), amount, skip, reverse, numbers served
        { "forward from a number", 10, null, 3, 0, false, [10, 11, 12] },
        { "reverse from a number", 10, null, 3, 0, true, [10, 9, 8] },
        { "forward with a skip of 2", 10, null, 3, 2, false, [10, 13, 16] },
        { "reverse with a skip stops before going below genesis", 5, null, 5, 2, true, [5, 2] },
        { "forward ends at our head", 38, null, 10, 0, false, [38, 39, 40] },
        { "an origin above our head gets an empty answer", 41, null, 10, 0, false, [] },
        { "by hash, forward", null, 20, 3, 0, false, [20, 21, 22] },
        { "by hash, reverse with a skip", null, 20, 3, 4, true, [20, 15, 10] },
        { "a hash above our head (not ours yet) gets an empty answer", null, 45, 3, 0, true, [] },
        { "amount 0 gets an empty answer", 10, null, 0, 0, false, [] },
        { "a skip of 2^64 - 1 ends after the origin, without overflow", 10, null, 3, ulong.MaxValue, false, [10] },
        { "a skip of 2^64 - 1 ends after the origin in reverse too", 10, null, 3, ulong.MaxValue, true, [10] },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Headers_are_served_as_geth_serves_them(string because, ulong? number, ulong? byHashOf, ulong amount, ulong skip, bool reverse, ulong[] expected)
    {
        var origin = number is { } n ? HeaderOrigin.ByNumber(n) : HeaderOrigin.ByHash(ExecutionApisChain.At(byHashOf!.Value).Hash);

        var served = EthServing.Headers(Chain, new GetBlockHeadersMessage(1, origin, amount, skip, reverse));

        Assert.True(expected.SequenceEqual(served.Select(h => h.Number)), $"{because}: served [{string.Join(", ", served.Select(h => h.Number))}]");
    }

    [Fact]
    public void Bodies_are_served_in_order_up_to_the_first_we_lack()
    {
        var hashes = new ulong[] { 3, 4, 45, 5 }.Select(n => ExecutionApisChain.At(n).Hash).ToArray();

        var served = EthServing.Bodies(Chain, hashes);

        Assert.Equal(new[] { ExecutionApisChain.At(3).Body, ExecutionApisChain.At(4).Body }, served);
    }

    [Fact]
    public void Bodies_stop_at_1024_however_many_are_asked()
    {
        var chain = MemoryEthChain.Generated(1500);
        var hashes = Enumerable.Range(1, 1400).Select(n => chain.GetHeader((ulong)n)!.Hash).ToArray();

        Assert.Equal(EthLimits.MaxBodies, EthServing.Bodies(chain, hashes).Count);
    }

    [Fact]
    public void An_answer_stops_growing_once_it_holds_2_MiB()
    {
        // Headers of 100 KB extra data each: 21 reach 2 MiB, so 21 are served, not 1,024.
        var big = Enumerable.Range(0, 30).Select(n => new Block(
            ExecutionApisChain.At(0).Header with { Number = (ulong)n, ExtraData = new byte[100_000] }, BlockBody.Empty)).ToList();
        var chain = new MemoryEthChain(big, ExecutionApisChain.Spec);

        var served = EthServing.Headers(chain, new GetBlockHeadersMessage(1, HeaderOrigin.ByNumber(0), 1000, 0, false));

        Assert.Equal(21, served.Count);
    }

    [Theory]
    [InlineData("reverse from a side-chain block walks its ancestors by hash, then the canonical chain by number past the fork", 14UL, true, 0UL, 6, new ulong[] { 14, 13, 12, 11, 10, 9 })]
    [InlineData("reverse with a skip from a side-chain block crosses the fork by parent hashes", 14UL, true, 1UL, 4, new ulong[] { 14, 12, 10, 8 })]
    [InlineData("forward from a side-chain block ends at the origin: only ancestors are well defined", 14UL, false, 0UL, 3, new ulong[] { 14 })]
    public void A_side_chain_origin_is_walked_by_parent_hash_until_the_canonical_chain(
        string because, ulong origin, bool reverse, ulong skip, int amount, ulong[] expected)
    {
        var chain = new ForkedChain();
        var side = chain.Side[(int)origin];

        var served = EthServing.Headers(chain, new GetBlockHeadersMessage(1, HeaderOrigin.ByHash(side.Hash), (ulong)amount, skip, reverse));

        Assert.True(expected.SequenceEqual(served.Select(h => h.Number)), $"{because}: served [{string.Join(", ", served.Select(h => h.Number))}]");
        // Above the fork (block 10) every header is the side chain's; at and below it, the canonical one's.
        Assert.All(served, h => Assert.Equal(h.Number > 10 ? chain.Side[(int)h.Number].Hash : chain.Canonical[(int)h.Number].Hash, h.Hash));
    }

    [Fact]
    public void The_answer_encodes_each_header_as_its_own_RLP_whether_pooled_or_not()
    {
        var chain = new ForkedChain();
        var query = new GetBlockHeadersMessage(7, HeaderOrigin.ByNumber(20), 15, 0, true);

        var answer = EthServing.HeadersMessage(chain, query);
        var length = answer.EncodeRented(out var rented);

        var expected = new BlockHeadersMessage(7, [.. Enumerable.Range(6, 15).Reverse().Select(n => chain.Canonical[n])]).Encode();
        Assert.Equal(expected, answer.Encode());
        Assert.Equal(expected, rented.AsSpan(0, length).ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>A generated chain of 21 blocks, and a side chain forking after block 10 (blocks 11'..15' known by hash only).</summary>
    private sealed class ForkedChain : IEthChain
    {
        public IReadOnlyList<BlockHeader> Canonical { get; } = GeneratedChain.Headers(21, seed: 3);

        public IReadOnlyList<BlockHeader> Side => GeneratedChain.Fork(Canonical, 10, 5, seed: 4);

        public Core.Chain.ChainSpec Spec => GeneratedChain.SpecFor(Canonical);

        public BlockHeader Head => Canonical[^1];

        public System.Numerics.BigInteger HeadTotalDifficulty => 1;

        public ulong Earliest => 0;

        public BlockHeader? GetHeader(ulong number) => number < (ulong)Canonical.Count ? Canonical[(int)number] : null;

        public BlockHeader? GetHeader(Core.Primitives.Hash256 hash) =>
            Canonical.Concat(Side.Skip(11)).FirstOrDefault(h => h.Hash == hash);

        public BlockBody? GetBody(Core.Primitives.Hash256 hash) => null;
    }
}
