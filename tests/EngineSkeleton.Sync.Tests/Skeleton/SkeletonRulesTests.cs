using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>
/// go-ethereum's skeleton_test.go tables (TestSkeletonSyncInit, TestSkeletonSyncExtend) as data, plus the merge and
/// after-link rules. Notation: subchains newest first as "head-tail", a trailing B for one on the side chain that
/// forks at block <see cref="ForkAt"/>; stale ranges as "from..to"; stored headers by number, B for the side chain.
/// A subchain's next is always the parent hash of its tail header on its own chain.
/// </summary>
public sealed class SkeletonRulesTests
{
    private const int ForkAt = 10;

    private static readonly BlockHeader[] Main = TestChains.Linear(120);
    private static readonly BlockHeader[] Side = TestChains.Fork(Main, ForkAt);

    public static TheoryData<string, string, string?, ulong, string, string> InitCases => new()
    {
        // proves, stored headers, stored progress (null: none), head, expected progress, expected stale headers
        { "an empty datadir starts one subchain holding only the head", "", null, 50, "50-50", "" },
        { "a stored progress without subchains starts one subchain holding only the head", "", "", 50, "50-50", "" },
        { "an older leftover subchain is kept below a new head subchain", "", "10-5", 50, "50-50, 10-5", "" },
        { "several older leftover subchains are all kept, in order", "", "20-15, 10-5", 50, "50-50, 20-15, 10-5", "" },
        { "a leftover subchain entirely above the head is dropped", "", "65-60", 50, "50-50", "60..65" },
        { "several leftover subchains entirely above the head are all dropped", "", "75-70, 65-60", 50, "50-50", "70..75, 60..65" },
        { "a newer leftover is dropped while an older one is kept", "", "65-60, 10-5", 50, "50-50, 10-5", "60..65" },
        {
            "newer leftovers are dropped and older ones kept when both kinds exist", "",
            "75-70, 65-60, 20-15, 10-5", 50, "50-50, 20-15, 10-5", "70..75, 60..65"
        },
        { "a head whose parent is the stored head of the newest subchain extends it", "49", "49-5", 50, "50-5", "" },
        {
            "a head one above the newest subchain but not its child starts a new subchain", "49B", "49-5", 50,
            "50-50, 49-5", ""
        },
        {
            "a head inside a subchain whose parent is stored trims the subchain to it and extends it", "49", "100-5", 50,
            "50-5", "51..100"
        },
        {
            "a head inside a subchain whose parent is not stored trims the subchain below it and starts a new one",
            "49B", "100-5", 50, "50-50, 49-5", "51..100"
        },
    };

    [Theory]
    [MemberData(nameof(InitCases))]
    public void InitSync_fits_the_stored_subchains_to_the_new_head(
        string proves, string stored, string? progress, ulong head, string expected, string stale)
    {
        Assert.NotEmpty(proves);
        var before = progress is null ? null : Progress(progress);

        var result = SkeletonRules.InitSync(before, Main[head], Lookup(stored));

        Assert.Equal(Progress(expected), result.Progress);
        Assert.Equal(Ranges(stale), result.Stale);
    }

    public static TheoryData<string, string, string, NewHeadOutcome, string> ExtendCases => new()
    {
        // proves, head the cycle started on, head announced next, expected outcome, expected progress
        { "the child of the head extends the subchain", "49", "50", NewHeadOutcome.Extended, "50-49" },
        { "the head announced again changes nothing and is not an error", "49", "49", NewHeadOutcome.Duplicate, "49-49" },
        { "a sibling of a single-header subchain is a reorg", "49", "49B", NewHeadOutcome.Reorged, "49-49" },
        { "the next number whose parent is not the head is a fork", "49B", "50", NewHeadOutcome.Forked, "49-49B" },
        { "a head beyond the next number is a gap", "49", "51", NewHeadOutcome.Gapped, "49-49" },
        { "the head's own parent announced as head is a reorg", "50", "49", NewHeadOutcome.Reorged, "50-50" },
        { "a side-chain block below the head is a reorg", "50", "49B", NewHeadOutcome.Reorged, "50-50" },
    };

    [Theory]
    [MemberData(nameof(ExtendCases))]
    public void ProcessNewHead_extends_only_with_the_child_of_the_head(
        string proves, string start, string announced, NewHeadOutcome outcome, string expected)
    {
        Assert.NotEmpty(proves);
        var started = Header(start);
        var progress = SkeletonRules.InitSync(null, started, TestChains.Lookup()).Progress;

        var result = SkeletonRules.ProcessNewHead(progress, Header(announced), null, TestChains.Lookup(started));

        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(Progress(expected), result.Progress);
    }

    [Fact]
    public void A_sibling_of_a_longer_subchains_head_with_the_stored_parent_replaces_the_head()
    {
        // geth reads the parent for any number in (tail, head+1]: a sibling of the head is taken in its place.
        var sibling = TestChains.Fork(Main, 50)[50];
        var progress = Progress("50-40");

        var result = SkeletonRules.ProcessNewHead(progress, sibling, null, StoredBy(progress));

        Assert.Equal(NewHeadOutcome.Extended, result.Outcome);
        Assert.Equal(progress, result.Progress);
    }

    [Fact]
    public void A_head_inside_the_subchain_with_the_stored_parent_moves_the_head_back()
    {
        var result = SkeletonRules.ProcessNewHead(Progress("100-5"), Main[50], null, Lookup("49"));

        Assert.Equal(NewHeadOutcome.Extended, result.Outcome);
        Assert.Equal(Progress("50-5"), result.Progress);
    }

    [Fact]
    public void A_head_whose_parent_is_not_stored_is_a_fork()
    {
        var result = SkeletonRules.ProcessNewHead(Progress("49-5"), Main[50], null, Lookup(""));

        Assert.Equal(NewHeadOutcome.Forked, result.Outcome);
    }

    [Fact]
    public void The_finalized_number_is_recorded_even_when_the_head_is_refused()
    {
        var result = SkeletonRules.ProcessNewHead(Progress("49-49"), Main[51], 30, Lookup("49"));

        Assert.Equal(NewHeadOutcome.Gapped, result.Outcome);
        Assert.False(result.Accepted);
        Assert.Equal(Progress("49-49") with { Finalized = 30 }, result.Progress);
    }

    [Fact]
    public void InitSync_keeps_the_stored_finalized_number()
    {
        var stored = Progress("10-5") with { Finalized = 7 };

        Assert.Equal(7UL, SkeletonRules.InitSync(stored, Main[50], Lookup("")).Progress.Finalized);
        Assert.Null(SkeletonRules.InitSync(null, Main[50], Lookup("")).Progress.Finalized);
    }

    [Fact]
    public void The_genesis_cannot_be_a_sync_target() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SkeletonRules.InitSync(null, Main[0], Lookup("")));

    public static TheoryData<string, string, string, bool> MergeCases => new()
    {
        // proves, progress after the newest subchain's tail moved, expected progress, merged
        { "subchains that do not overlap are left alone", "100-50, 40-20", "100-50, 40-20", false },
        {
            "an adjacent older subchain is not merged until the newest overlaps it (geth waits for the next batch)",
            "100-61, 60-20", "100-61, 60-20", false
        },
        { "an overlapped older subchain whose header below the tail is the next one merges", "100-50, 60-20", "100-20", true },
        { "reaching exactly the older subchain's head merges", "100-60, 60-20", "100-20", true },
        {
            "an overlapped older subchain of another chain is trimmed below the tail, not merged",
            "100-50, 60-20B", "100-50, 49-20B", false
        },
        { "an older subchain lying wholly within the newest is dropped", "100-10, 60-20", "100-10", false },
        {
            "after a wholly overwritten subchain is dropped the next older one can still merge",
            "100-15, 60-20, 17-5", "100-5", true
        },
    };

    [Theory]
    [MemberData(nameof(MergeCases))]
    public void MergeSubchains_merges_linking_overlaps_and_trims_the_others(
        string proves, string progress, string expected, bool merged)
    {
        Assert.NotEmpty(proves);
        var before = Progress(progress);

        var result = SkeletonRules.MergeSubchains(before, StoredBy(before));

        Assert.Equal(Progress(expected), result.Progress);
        Assert.Equal(merged, result.Merged);
    }

    [Fact]
    public void After_linking_a_leftover_single_header_below_the_tail_is_dropped_and_deleted()
    {
        var before = Progress("100-50, 30-30");

        var result = SkeletonRules.SettleLinked(before, StoredBy(before));

        Assert.Equal(Progress("100-50"), result.Progress);
        Assert.Equal([new NumberRange(30, 30)], result.Stale);
        Assert.False(result.Spurious);
    }

    [Fact]
    public void After_linking_a_leftover_single_header_the_newest_overwrote_is_dropped_but_not_deleted()
    {
        var before = Progress("100-20, 30-30");

        var result = SkeletonRules.SettleLinked(before, StoredBy(before));

        Assert.Equal(Progress("100-20"), result.Progress);
        Assert.Empty(result.Stale);
        Assert.False(result.Spurious);
    }

    [Fact]
    public void After_linking_other_leftovers_are_dropped_from_the_progress_as_spurious_and_their_headers_kept()
    {
        var before = Progress("100-50, 40-30, 20-10");

        var result = SkeletonRules.SettleLinked(before, StoredBy(before));

        Assert.Equal(Progress("100-50"), result.Progress);
        Assert.Empty(result.Stale);
        Assert.True(result.Spurious);
    }

    private static BlockHeader Header(string spec) =>
        spec.EndsWith('B') ? Side[int.Parse(spec[..^1], CultureInfo.InvariantCulture)] : Main[int.Parse(spec, CultureInfo.InvariantCulture)];

    private static Func<ulong, BlockHeader?> Lookup(string stored) =>
        TestChains.Lookup([.. Split(stored).Select(Header)]);

    /// <summary>"head-tail[B], ..." newest first; next is the parent hash of the tail on the subchain's chain.</summary>
    private static SkeletonProgress Progress(string spec) =>
        new([.. Split(spec).Select(item =>
        {
            var chain = item.EndsWith('B') ? Side : Main;
            var bounds = item.TrimEnd('B').Split('-');
            var head = ulong.Parse(bounds[0], CultureInfo.InvariantCulture);
            var tail = ulong.Parse(bounds[1], CultureInfo.InvariantCulture);
            return new Subchain(head, tail, chain[tail].ParentHash);
        })], null);

    private static List<NumberRange> Ranges(string spec) =>
        [.. Split(spec).Select(item =>
        {
            var bounds = item.Split("..");
            return new NumberRange(ulong.Parse(bounds[0], CultureInfo.InvariantCulture), ulong.Parse(bounds[1], CultureInfo.InvariantCulture));
        })];

    /// <summary>The headers a store holds for this progress: each subchain's own, newer subchains written over older.</summary>
    private static Func<ulong, BlockHeader?> StoredBy(SkeletonProgress progress)
    {
        var stored = new Dictionary<ulong, BlockHeader>();
        foreach (var subchain in progress.Subchains.Reverse())
        {
            var chain = subchain.Next == Main[subchain.Tail].ParentHash ? Main : Side;
            for (var n = subchain.Tail; n <= subchain.Head; n++)
            {
                stored[n] = chain[n];
            }
        }
        return number => stored.GetValueOrDefault(number);
    }

    private static string[] Split(string spec) =>
        spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
