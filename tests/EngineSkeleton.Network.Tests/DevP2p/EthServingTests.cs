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
}
