using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Sync.Tests.TestDoubles;

public sealed class InProcessPeerTests
{
    /// <summary>A guard against a hung test, never a timing assertion: every await is bounded by it.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private static readonly IReadOnlyList<BlockHeader> Chain = GeneratedChain.Headers(2_000, seed: 3);

    [Theory]
    [InlineData("a full request is answered in full, newest first", 1_000UL, 512, 512)]
    [InlineData("a request reaching past the genesis stops at the genesis", 10UL, 512, 11)]
    [InlineData("an origin beyond the peer's head is answered with nothing", 2_000UL, 10, 0)]
    [InlineData("an answer carries at most 1,024 headers however many are asked for", 1_999UL, 2_000, 1_024)]
    [InlineData("asking for none gets none", 1_000UL, 0, 0)]
    public async Task An_honest_peer_answers_what_it_has(string proves, ulong origin, int count, int expected)
    {
        Assert.NotEmpty(proves);
        var peer = new InProcessPeer("honest", Chain);

        var headers = await peer.GetHeadersReverseAsync(origin, count, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(expected, headers.Count);
        for (var i = 0; i < headers.Count; i++)
        {
            Assert.Equal(Chain[(int)origin - i], headers[i]);
        }
        Assert.Equal(1, peer.Requests);
        Assert.Equal(expected, peer.HeadersServed);
    }

    public enum Fault
    {
        Withhold,
        Duplicate,
        Change,
        Empty,
    }

    public static TheoryData<string, Fault, ulong, int, ResponseProblem> HeaderFaults => new()
    {
        { "a withheld header cuts the answer short just above it", Fault.Withhold, 900, 100, ResponseProblem.TooFew },
        { "a withheld origin leaves nothing to answer", Fault.Withhold, 1_000, 0, ResponseProblem.Empty },
        { "a withheld header outside the range changes nothing", Fault.Withhold, 100, 512, ResponseProblem.None },
        { "a duplicated header comes twice, one more than asked", Fault.Duplicate, 990, 513, ResponseProblem.TooMany },
        { "a changed header inside the range breaks its child's link", Fault.Change, 995, 512, ResponseProblem.BrokenHashLink },
        { "a changed header at the top leaves the batch consistent", Fault.Change, 1_000, 512, ResponseProblem.None },
        { "an empty peer answers nothing", Fault.Empty, 0, 0, ResponseProblem.Empty },
    };

    [Theory]
    [MemberData(nameof(HeaderFaults))]
    public async Task Header_faults_shape_the_answer(string proves, Fault fault, ulong at, int expectedCount, ResponseProblem problem)
    {
        Assert.NotEmpty(proves);
        var peer = new InProcessPeer("faulty", Chain)
        {
            Faults = fault switch
            {
                Fault.Withhold => new PeerFaults { WithholdAt = at },
                Fault.Duplicate => new PeerFaults { DuplicateAt = at },
                Fault.Change => new PeerFaults { ChangeAt = at },
                _ => new PeerFaults { Empty = true },
            },
        };
        var request = new HeaderRange(1_000, 512);

        var headers = await peer.GetHeadersReverseAsync(request.Origin, request.Count, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(expectedCount, headers.Count);
        Assert.Equal(problem, ResponseCheck.Check(request, headers).Problem);
        Assert.Equal(expectedCount, peer.HeadersServed);
    }

    [Fact]
    public async Task A_changed_header_at_the_top_does_not_link_to_the_tail()
    {
        var peer = new InProcessPeer("forked", Chain) { Faults = new PeerFaults { ChangeAt = 1_000 } };

        var headers = await peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(ResponseProblem.TailMismatch, ResponseCheck.LinksToTail(headers, Chain[1_001].ParentHash).Problem);
    }

    [Fact]
    public async Task A_garbage_peer_fails_every_request_with_a_peer_exception()
    {
        var peer = new InProcessPeer("garbage", Chain) { Faults = new PeerFaults { Garbage = true } };

        await Assert.ThrowsAsync<PeerException>(() => peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None).WaitAsync(Hang));
        await Assert.ThrowsAsync<PeerException>(() => peer.GetHeaderByHashAsync(Chain[5].Hash, CancellationToken.None).WaitAsync(Hang));
        await Assert.ThrowsAsync<PeerException>(() => peer.GetBodiesAsync([Chain[5].Hash], CancellationToken.None).WaitAsync(Hang));
        Assert.Equal(3, peer.Requests);
        Assert.Equal(0, peer.HeadersServed);
    }

    [Fact]
    public async Task A_silent_peer_answers_only_by_being_cancelled()
    {
        var time = new FakeTimeProvider();
        var peer = new InProcessPeer("silent", Chain, time: time) { Faults = new PeerFaults { Silent = true } };
        using var cancel = new CancellationTokenSource();

        var pending = peer.GetHeadersReverseAsync(1_000, 512, cancel.Token);
        time.Advance(TimeSpan.FromDays(365));
        Assert.False(pending.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Hang));
        Assert.Equal(0, peer.HeadersServed);
    }

    [Fact]
    public async Task A_delayed_peer_answers_when_its_clock_has_moved_far_enough()
    {
        var time = new FakeTimeProvider();
        var peer = new InProcessPeer("slow", Chain, time: time) { Faults = new PeerFaults { Delay = TimeSpan.FromSeconds(10) } };

        var pending = peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(512, (await pending.WaitAsync(Hang)).Count);
    }

    [Fact]
    public async Task A_gated_peer_answers_when_the_test_opens_the_gate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var peer = new InProcessPeer("gated", Chain) { Faults = new PeerFaults { Gate = gate.Task } };

        var pending = peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None);
        Assert.False(pending.IsCompleted);
        gate.SetResult();

        Assert.Equal(512, (await pending.WaitAsync(Hang)).Count);
    }

    [Fact]
    public async Task The_request_hook_sees_and_holds_each_request()
    {
        var seen = new List<PeerRequest>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var peer = new InProcessPeer("hooked", Chain)
        {
            OnRequest = (request, cancellationToken) =>
            {
                seen.Add(request);
                return release.Task.WaitAsync(cancellationToken);
            },
        };

        var pending = peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None);

        var request = Assert.Single(seen);
        Assert.Equal(PeerRequestKind.HeadersReverse, request.Kind);
        Assert.Equal((1_000UL, 512), (request.Origin, request.Count));
        Assert.Equal(1, peer.Requests);
        Assert.Equal(0, peer.HeadersServed);
        Assert.False(pending.IsCompleted);

        release.SetResult();
        await pending.WaitAsync(Hang);
        Assert.Equal(512, peer.HeadersServed);
    }

    [Fact]
    public async Task Faults_are_read_once_when_a_request_arrives()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var peer = new InProcessPeer("switching", Chain) { Faults = new PeerFaults { Gate = gate.Task } };

        var pending = peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None);
        peer.Faults = new PeerFaults { Empty = true };
        gate.SetResult();

        Assert.Equal(512, (await pending.WaitAsync(Hang)).Count);
        Assert.Empty(await peer.GetHeadersReverseAsync(1_000, 512, CancellationToken.None).WaitAsync(Hang));
    }

    public static TheoryData<string, PeerFaults, ulong, bool, bool> ByHashCases => new()
    {
        { "a header on the chain is found by its hash", PeerFaults.None, 1_234, true, true },
        { "a withheld header is unknown by hash too", new PeerFaults { WithholdAt = 1_234 }, 1_234, false, false },
        { "a changed header is served for the hash though it does not hash to it: callers must check", new PeerFaults { ChangeAt = 1_234 }, 1_234, true, false },
        { "an empty peer knows no hash", new PeerFaults { Empty = true }, 1_234, false, false },
    };

    [Theory]
    [MemberData(nameof(ByHashCases))]
    public async Task Headers_are_served_by_hash(string proves, PeerFaults faults, ulong number, bool served, bool matches)
    {
        Assert.NotEmpty(proves);
        var peer = new InProcessPeer("by-hash", Chain) { Faults = faults };
        var hash = Chain[(int)number].Hash;

        var header = await peer.GetHeaderByHashAsync(hash, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(served, header is not null);
        Assert.Equal(matches, header?.Hash == hash);
        Assert.Equal(served ? 1 : 0, peer.HeadersServed);
    }

    [Fact]
    public async Task An_unknown_hash_is_answered_with_null()
    {
        var peer = new InProcessPeer("by-hash", Chain);

        Assert.Null(await peer.GetHeaderByHashAsync(Hash256.Zero, CancellationToken.None).WaitAsync(Hang));
        // The whole chain was indexed looking for it; a known hash is now found without more hashing.
        Assert.NotNull(await peer.GetHeaderByHashAsync(Chain[3].Hash, CancellationToken.None).WaitAsync(Hang));
    }

    [Fact]
    public async Task Bodies_are_served_by_hash_in_order_with_nulls_for_unknown_ones()
    {
        var peer = new InProcessPeer("bodies", Chain, GeneratedChain.Bodies(Chain));

        var bodies = await peer.GetBodiesAsync([Chain[10].Hash, Hash256.Zero, Chain[11].Hash], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal([GeneratedChain.EmptyBody, null, GeneratedChain.EmptyBody], bodies);
        Assert.Equal(2, peer.BodiesServed);
    }

    [Fact]
    public async Task A_corrupted_body_breaks_its_transactions_root_and_only_that_body()
    {
        var chain = GeneratedChain.Headers(20, seed: 4, bodies: BodyProfile.Mixed);
        var bodies = GeneratedChain.Bodies(chain);
        var peer = new InProcessPeer("corrupt", chain, bodies) { Faults = new PeerFaults { CorruptBodyAt = 12 } };
        var validator = new BlockValidator(GeneratedChainTests.AllForks);

        var served = await peer.GetBodiesAsync([chain[11].Hash, chain[12].Hash, chain[13].Hash], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(bodies[11], served[0]);
        Assert.Equal(bodies[13], served[2]);
        Assert.Equal(bodies[12]!.Transactions.Count + 1, served[1]!.Transactions.Count);
        Assert.True(validator.ValidateBody(new Block(chain[11], served[0]!), allowOmmers: false).IsValid);
        var result = validator.ValidateBody(new Block(chain[12], served[1]!), allowOmmers: false);
        Assert.Equal("transactions do not match transactionsRoot", result.Error);
    }

    [Fact]
    public async Task A_peer_without_bodies_answers_nulls()
    {
        var peer = new InProcessPeer("headers-only", Chain);

        var bodies = await peer.GetBodiesAsync([Chain[10].Hash], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal([null], bodies);
        Assert.Equal(0, peer.BodiesServed);
    }

    [Fact]
    public void A_chain_not_indexed_by_number_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new InProcessPeer("bad", [Chain[1], Chain[2]]));
        Assert.Throws<ArgumentException>(() => new InProcessPeer("bad", Chain, bodies: [GeneratedChain.EmptyBody]));
    }

    [Fact]
    public async Task A_cancelled_request_is_counted_but_not_answered()
    {
        var peer = new InProcessPeer("p", Chain);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => peer.GetHeadersReverseAsync(1_000, 512, new CancellationToken(canceled: true)).WaitAsync(Hang));

        Assert.Equal(1, peer.Requests);
        Assert.Equal(0, peer.HeadersServed);
    }
}
