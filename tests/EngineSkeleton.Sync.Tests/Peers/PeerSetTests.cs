using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Sync.Tests.Peers;

public sealed class PeerSetTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    // ---- The msgrate arithmetic, directly ----

    [Theory]
    [InlineData("a fully trusted estimate allows three round trips", 10.0, 1.0, 30.0)]
    [InlineData("half the confidence doubles the allowance", 5.0, 0.5, 30.0)]
    [InlineData("however slow the peer, no request waits more than a minute", 20.0, 0.1, 60.0)]
    [InlineData("three round trips of exactly 20 s hit the cap exactly", 20.0, 1.0, 60.0)]
    [InlineData("a peer on a local link still gets the 6 s floor", 0.001, 1.0, 6.0)]
    [InlineData("exactly two seconds of round trip lands on the floor", 2.0, 1.0, 6.0)]
    [InlineData("a confidence below the minimum counts as the minimum", 1.0, 0.01, 30.0)]
    public void Timeout_follows_the_round_trip_within_floor_and_cap(string proves, double roundTripSeconds, double confidence, double expectedSeconds)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), MessageRate.Timeout(TimeSpan.FromSeconds(roundTripSeconds), confidence));
    }

    [Theory]
    [InlineData("an answer moves the capacity a tenth of the way to what it measured", 100.0, 512, 1.0, 141.2)]
    [InlineData("a measurement equal to the estimate leaves it", 512.0, 256, 0.5, 512.0)]
    [InlineData("nothing delivered slashes the capacity to zero", 100.0, 0, 1.0, 0.0)]
    [InlineData("a zero elapsed time counts as one tick, not a division by zero", 0.0, 1, 0.0, 1_000_000.0)]
    public void Capacity_is_a_moving_average_of_items_per_second(string proves, double capacity, int items, double elapsedSeconds, double expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, MessageRate.NextCapacity(capacity, items, TimeSpan.FromSeconds(elapsedSeconds)), precision: 6);
    }

    [Theory]
    [InlineData("an answer moves the round trip a tenth of the way to its elapsed time", 20.0, 512, 10.0, 19.0)]
    [InlineData("an answer with nothing in it says nothing about the round trip", 20.0, 0, 1.0, 20.0)]
    public void Round_trip_is_a_moving_average_of_answer_times(string proves, double roundTripSeconds, int items, double elapsedSeconds, double expectedSeconds)
    {
        Assert.NotEmpty(proves);
        var next = MessageRate.NextRoundTrip(TimeSpan.FromSeconds(roundTripSeconds), items, TimeSpan.FromSeconds(elapsedSeconds));
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), next);
    }

    [Fact]
    public void Status_shows_the_median_of_the_peers_own_answers_not_the_estimate_it_started_from()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        set.Add(peer);
        Assert.Null(Assert.Single(set.Status()).MeasuredRoundTrip);

        set.Update(peer, 512, TimeSpan.FromMilliseconds(30));
        set.Update(peer, 0, TimeSpan.FromSeconds(60)); // a timeout says nothing about how fast the peer answers
        set.Update(peer, 512, TimeSpan.FromMilliseconds(10));
        set.Update(peer, 512, TimeSpan.FromMilliseconds(20));

        var status = Assert.Single(set.Status());
        Assert.Equal(TimeSpan.FromMilliseconds(20), status.MeasuredRoundTrip);
        Assert.True(status.RoundTrip > TimeSpan.FromSeconds(1), $"the estimate is still near its 20 s start: {status.RoundTrip}");
    }

    [Fact]
    public void The_measured_round_trip_forgets_answers_older_than_the_last_sixteen()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        set.Add(peer);
        for (var i = 0; i < 16; i++)
        {
            set.Update(peer, 1, TimeSpan.FromSeconds(5));
        }
        for (var i = 0; i < 16; i++)
        {
            set.Update(peer, 1, TimeSpan.FromMilliseconds(2));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(2), Assert.Single(set.Status()).MeasuredRoundTrip);
    }

    public static TheoryData<string, double[], double> ReferenceCases => new()
    {
        { "with no peers the estimate is the longest one", [], 20 },
        { "a lone peer's round trip is the reference", [5], 5 },
        { "a very fast lone peer is raised to the 2 s minimum", [0.01], 2 },
        { "a slow set is capped at 20 s", [30, 40], 20 },
        { "of four peers the one at index ⌊√4⌋ = 2 of the sorted round trips is taken", [7, 1, 5, 3], 5 },
        { "of nine peers index 3 is taken: the reference leans toward the fast ones", [9, 8, 7, 6, 5, 4, 3, 2, 1], 4 },
    };

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Reference_round_trip_is_geths_lower_quantile_clamped(string proves, double[] roundTripSeconds, double expectedSeconds)
    {
        Assert.NotEmpty(proves);
        var reference = MessageRate.ReferenceRoundTrip([.. roundTripSeconds.Select(TimeSpan.FromSeconds)]);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), reference);
    }

    [Theory]
    [InlineData("a lone peer is fully trusted whatever came before", 0.3, 1, 1.0)]
    [InlineData("a second peer halves the confidence", 1.0, 2, 0.5)]
    [InlineData("a third peer scales it by two thirds", 0.5, 3, 1.0 / 3)]
    [InlineData("the confidence never drops below a tenth", 0.11, 9, 0.1)]
    [InlineData("from ten peers on a newcomer changes nothing", 0.4, 10, 0.4)]
    public void Joining_peers_lower_the_confidence(string proves, double confidence, int peers, double expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, MessageRate.Detuned(confidence, peers), precision: 12);
    }

    [Theory]
    [InlineData("each tuning halves the distance to full confidence", 0.5, 0.75)]
    [InlineData("from the minimum it climbs past one half at once", 0.1, 0.55)]
    [InlineData("full confidence stays full", 1.0, 1.0)]
    public void Tuning_regains_confidence(string proves, double confidence, double expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, MessageRate.Tuned(confidence), precision: 12);
    }

    [Theory]
    [InlineData("a peer of no known capacity is asked for one item", 0.0, 1.0, 1)]
    [InlineData("one second at 100/s asks for 1 + 1% over 100, rounded up", 100.0, 1.0, 102)]
    [InlineData("half a second at 1000/s asks for 506", 1000.0, 0.5, 506)]
    [InlineData("an absurd capacity is clamped to int.MaxValue, never overflowed", 1e300, 60.0, int.MaxValue)]
    public void Items_within_a_target_over_ask_slightly(string proves, double capacity, double targetSeconds, int expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, MessageRate.ItemsWithin(capacity, TimeSpan.FromSeconds(targetSeconds)));
    }

    // ---- The peer set ----

    [Fact]
    public void A_live_peer_cannot_be_added_twice_but_a_dropped_one_comes_back_fresh()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        Assert.True(set.Add(peer));
        Assert.False(set.Add(new StubPeer("a")));
        set.Update(peer, 100, Second);
        Assert.True(set.Drop(peer, "served junk"));

        Assert.True(set.Add(peer));

        var status = Assert.Single(set.Status());
        Assert.Equal(new PeerStatus("a", 0, 0, false, false, null, MessageRate.RoundTripMax, 0, 0, MessageRate.TimeoutCap), status);
    }

    public enum Step
    {
        None,
        Busy,
        Dropped,
        Removed,
    }

    [Theory]
    [InlineData("an idle peer can be made busy", Step.None, true, false)]
    [InlineData("a busy peer cannot take a second request", Step.Busy, false, true)]
    [InlineData("a dropped peer takes no requests and is never idle again", Step.Dropped, false, false)]
    [InlineData("a removed peer is unknown", Step.Removed, false, false)]
    public void Busy_and_idle_move_only_live_peers(string proves, Step before, bool busyAccepted, bool idleAccepted)
    {
        Assert.NotEmpty(proves);
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        set.Add(peer);
        _ = before switch
        {
            Step.Busy => set.MarkBusy(peer),
            Step.Dropped => set.Drop(peer, "test"),
            Step.Removed => set.Remove(peer),
            _ => true,
        };

        Assert.Equal(busyAccepted, set.MarkBusy(peer));
        if (busyAccepted)
        {
            Assert.True(set.MarkIdle(peer)); // and back
        }
        else
        {
            Assert.Equal(idleAccepted, set.MarkIdle(peer));
        }
    }

    [Fact]
    public void Idle_peers_come_fastest_first_then_by_round_trip_then_by_id()
    {
        var set = new PeerSet(new FakeTimeProvider());
        StubPeer slow = new("slow"), fast = new("fast"), tieQuick = new("tie-quick"), tieB = new("tie-b"), tieA = new("tie-a"), busy = new("busy"), dropped = new("dropped");
        foreach (var peer in new[] { slow, fast, tieQuick, tieB, tieA, busy, dropped })
        {
            set.Add(peer);
        }
        set.Update(slow, 100, Second);
        set.Update(fast, 10_000, Second);
        set.Update(tieA, 1_000, Second);
        set.Update(tieB, 1_000, Second);
        set.Update(tieQuick, 500, Second / 2); // the same 1000/s, in half the time
        set.Update(busy, 100_000, Second);
        set.Update(dropped, 100_000, Second);
        set.MarkBusy(busy);
        set.Drop(dropped, "test");

        var order = set.IdlePeersFastestFirst().Select(peer => peer.Id);

        Assert.Equal(["fast", "tie-quick", "tie-a", "tie-b", "slow"], order);
    }

    [Fact]
    public void A_peer_that_takes_several_requests_is_idle_until_all_are_out_and_gets_its_second_slot_after_everyone_s_first()
    {
        var set = new PeerSet(new FakeTimeProvider());
        StubPeer wide = new("wide") { MaxRequests = 3 }, pair = new("pair") { MaxRequests = 2 }, single = new("single");
        foreach (var peer in new[] { wide, pair, single })
        {
            set.Add(peer);
        }
        set.Update(wide, 10_000, Second);
        set.Update(pair, 1_000, Second);
        set.Update(single, 100, Second);

        Assert.Equal(["wide", "pair", "single", "wide", "pair", "wide"], set.FreeSlotsFastestFirst().Select(p => p.Id));

        Assert.True(set.MarkBusy(wide));
        Assert.True(set.MarkBusy(wide));
        Assert.Equal(["wide", "pair", "single", "pair"], set.FreeSlotsFastestFirst().Select(p => p.Id));
        Assert.Contains(wide, set.IdlePeersFastestFirst());
        var status = set.Status().Single(s => s.Id == "wide");
        Assert.True(status.Busy);
        Assert.Equal((2, 3), (status.Requests, status.MaxRequests));

        Assert.True(set.MarkBusy(wide));
        Assert.False(set.MarkBusy(wide)); // all three out
        Assert.DoesNotContain(wide, set.IdlePeersFastestFirst());
        Assert.Equal(["pair", "single", "pair"], set.FreeSlotsFastestFirst().Select(p => p.Id));

        Assert.True(set.MarkIdle(wide));
        Assert.Equal(["wide", "pair", "single", "pair"], set.FreeSlotsFastestFirst().Select(p => p.Id));
        Assert.True(set.MarkIdle(wide));
        Assert.True(set.MarkIdle(wide));
        Assert.False(set.MarkIdle(wide)); // none out: nothing to free
        Assert.False(set.Status().Single(s => s.Id == "wide").Busy);
    }

    [Fact]
    public void A_dropped_peer_s_requests_in_flight_are_forgotten_and_it_has_no_free_slot()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a") { MaxRequests = 2 };
        set.Add(peer);
        set.MarkBusy(peer);
        set.MarkBusy(peer);

        set.Drop(peer, "test");

        Assert.Empty(set.FreeSlotsFastestFirst());
        Assert.False(set.MarkIdle(peer)); // an answer coming back after the drop changes nothing
        Assert.Equal(0, set.Status().Single().Requests);
    }

    [Fact]
    public void Answers_add_to_what_was_served_and_move_the_estimates()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        set.Add(peer);

        set.Update(peer, 512, TimeSpan.FromSeconds(10));
        set.Update(peer, 20, TimeSpan.FromSeconds(10), RateKind.Bodies);

        var status = Assert.Single(set.Status());
        Assert.Equal(512UL, status.ServedHeaders);
        Assert.Equal(20UL, status.ServedBodies);
        Assert.Equal(5.12, status.HeaderCapacity, precision: 9);
        Assert.Equal(0.2, status.BodyCapacity, precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(18.1), status.RoundTrip); // 20 s → 19 s → 18.1 s

        set.Update(peer, 0, TimeSpan.FromSeconds(60)); // a timeout

        status = Assert.Single(set.Status());
        Assert.Equal(0, status.HeaderCapacity);
        Assert.Equal(TimeSpan.FromSeconds(18.1), status.RoundTrip);
    }

    [Fact]
    public void A_newcomer_starts_at_the_sets_mean_capacity_and_reference_round_trip()
    {
        var set = new PeerSet(new FakeTimeProvider());
        StubPeer a = new("a"), b = new("b");
        set.Add(a);
        set.Add(b);
        set.Update(a, 1000, TimeSpan.FromSeconds(10)); // 100/s, rtt 19 s
        set.Update(b, 3000, TimeSpan.FromSeconds(10)); // 300/s, rtt 19 s

        var c = new StubPeer("c");
        set.Add(c);

        var status = set.Status().Single(s => s.Id == "c");
        Assert.Equal((10 + 30) / 2.0, status.HeaderCapacity, precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(19), status.RoundTrip);
    }

    [Fact]
    public void Dropping_keeps_the_first_reason_for_status_and_hands_the_peer_out_no_more()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        set.Add(peer);
        set.MarkBusy(peer);

        Assert.True(set.Drop(peer, "tail batch does not link"));
        Assert.False(set.Drop(peer, "timed out"));

        var status = Assert.Single(set.Status());
        Assert.True(status.Dropped);
        Assert.False(status.Busy);
        Assert.Equal("tail batch does not link", status.DropReason);
        Assert.Empty(set.IdlePeersFastestFirst());
        Assert.Equal(0, set.Count);
    }

    [Fact]
    public void A_fresh_peer_waits_the_full_minute_and_a_proven_fast_one_the_floor()
    {
        var set = new PeerSet(new FakeTimeProvider());
        var peer = new StubPeer("a");
        set.Add(peer);
        Assert.Equal(MessageRate.TimeoutCap, set.TimeoutFor(peer)); // 3 × 20 s

        for (var i = 0; i < 100; i++)
        {
            set.Update(peer, 512, TimeSpan.FromMilliseconds(5));
        }

        Assert.Equal(MessageRate.TimeoutFloor, set.TimeoutFor(peer));
        Assert.Equal(MessageRate.TimeoutCap, set.TimeoutFor(new StubPeer("unknown")));
    }

    [Fact]
    public void A_joining_peer_loosens_timeouts_until_a_set_round_trip_passes()
    {
        var time = new FakeTimeProvider();
        var set = new PeerSet(time);
        StubPeer a = new("a"), b = new("b");
        set.Add(a);
        for (var i = 0; i < 30; i++)
        {
            set.Update(a, 512, Second); // rtt ≈ 1.8 s
        }
        var roundTrip = set.Status().Single().RoundTrip;
        Assert.Equal(MessageRate.Timeout(roundTrip, 1), set.TimeoutFor(a));

        set.Add(b); // two peers: confidence 1 → 0.5

        Assert.Equal(MessageRate.Timeout(roundTrip, 0.5), set.TimeoutFor(a));
        time.Advance(TimeSpan.FromSeconds(20)); // not yet more than the set's 20 s round trip
        Assert.Equal(MessageRate.Timeout(roundTrip, 0.5), set.TimeoutFor(a));
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(MessageRate.Timeout(roundTrip, 0.75), set.TimeoutFor(a));
    }

    private sealed class StubPeer(string id) : ISyncPeer
    {
        public string Id { get; } = id;

        public int MaxRequests { get; init; } = 1;

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
