using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Simulation.Tests.Regressions;

/// <summary>Bugs the simulation found, each pinned by the rule that was wrong and by the seeds that showed it.</summary>
public sealed class FoundBySimulationTests
{
    /// <summary>
    /// Seeds 101 and 186 when it was found, seed 243 of today's schedules: the beacon node went back to a head an older subchain holds while the newest subchain was a
    /// single header above it. ProcessNewHead took the forced head for a repeat of that single header (it compared the
    /// header stored at the head's number, which was the older subchain's), accepted it without a restart, and the
    /// cycle kept asking for the parent of a head nobody followed any more: never VALID.
    /// </summary>
    [Fact]
    public void A_head_held_by_an_older_subchain_below_a_single_header_subchain_is_a_reorg_not_a_repeat()
    {
        var main = GeneratedChain.Headers(120);
        var stored = new Dictionary<ulong, Core.Blocks.BlockHeader> { [100] = main[100], [50] = main[50], [49] = main[49] };
        var progress = new SkeletonProgress([new Subchain(100, 100, main[100].ParentHash), new Subchain(50, 49, main[49].ParentHash)], null);

        var result = SkeletonRules.ProcessNewHead(progress, main[50], null, stored.GetValueOrDefault);

        Assert.Equal(NewHeadOutcome.Reorged, result.Outcome);
    }

    /// <summary>
    /// The seed of today's schedules that fails without the fix (seeds 1–400 searched): a seed replays only under the
    /// schedule generator it was found with, so a change to the generator must find the failing seed again.
    /// </summary>
    [Theory]
    [InlineData(243)]
    public void The_seed_that_shows_it_ends_valid(int seed)
    {
        var result = Simulation.Run(seed);

        Assert.True(result.Passed, result.Failure);
    }
}
