using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Sync.Tests.Backfill;

/// <summary>
/// The fill's steps (<see cref="FillState"/>) called directly, without peers, stores or tasks (docs/sync.md, Backfill).
/// Notation: idle peers fastest first as ids, "a b c"; runs handed out as "peer:first-last", "a:1-128 b:129-256";
/// runs written as "first-last", "-" for none. Headers are <see cref="TestChains.Linear"/>'s, the skeleton holds
/// them all unless a case says where it stops.
/// </summary>
public sealed class FillStateTests
{
    private const int Run = Backfiller.BatchSize;

    private static readonly BlockHeader[] Chain = TestChains.Linear(3_000);
    private static readonly BlockHeader[] Branch = TestChains.Fork(TestChains.Linear(201), forkAt: 61); // shares 0..60

    /// <summary>A peer the steps hand runs to; they never call it.</summary>
    private sealed class IdPeer(string id) : ISyncPeer
    {
        public string Id => id;

        public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken) => throw Called();

        public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) => throw Called();

        public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken) => throw Called();

        private static InvalidOperationException Called() => new("the fill's steps do no I/O: a peer is called by the Backfiller only");
    }

    public static TheoryData<string, string, string, ulong, ulong, ulong, string, ulong?> AssignCases => new()
    {
        // proves, idle peers fastest first, peers that cannot be claimed, start, target, highest skeleton header
        // stored, runs handed out, where the skeleton was found to stop hanging together
        { "the fastest idle peer takes the lowest run and the next peer the run above it", "a b", "", 0, 1_000, 2_999, "a:1-128 b:129-256", null },
        { "the last run ends at the target", "a b c", "", 0, 200, 2_999, "a:1-128 b:129-200", null },
        { "a fill hangs its first run off its start block", "a", "", 1_000, 2_000, 2_999, "a:1001-1128", null },
        { "a fill at its target hands out nothing", "a", "", 500, 500, 2_999, "", null },
        {
            "no more than MaxRunsAhead runs are handed out however many peers are idle", Ids(Backfiller.MaxRunsAhead + 4), "", 0, 2_999, 2_999,
            string.Join(' ', Enumerable.Range(0, Backfiller.MaxRunsAhead).Select(i => $"p{i:D2}:{(i * Run) + 1}-{(i + 1) * Run}")), null
        },
        { "a peer that cannot be claimed gets nothing and its run goes to the next peer", "a b c", "b", 0, 1_000, 2_999, "a:1-128 c:129-256", null },
        { "runs end where the skeleton stops hanging together, and no run is read past it", "a b c", "", 0, 1_000, 200, "a:1-128 b:129-200", 201 },
    };

    [Theory]
    [MemberData(nameof(AssignCases))]
    public void Assign_hands_the_lowest_runs_to_the_fastest_idle_peers_within_the_window(
        string proves, string idle, string refused, ulong start, ulong target, ulong stored, string expected, ulong? gapAt)
    {
        var fill = new FillState(Chain[start], Chain[target]);
        var unclaimable = refused.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var assigned = fill.Assign(Peers(idle), peer => !unclaimable.Contains(peer.Id), n => n <= stored ? Chain[n] : null);

        Assert.True(expected == Format(assigned), $"{proves}: {Format(assigned)}");
        Assert.Equal(gapAt, assigned.SkeletonGapAt);
        Assert.Equal(assigned.Runs.Count, fill.InFlight.Count);
        AssertRunsAreSkeletonHeaders(assigned);
    }

    [Fact]
    public void The_window_moves_up_only_as_runs_are_written_not_as_they_arrive()
    {
        var fill = new FillState(Chain[0], Chain[2_999]);
        var first = fill.Assign(Peers(Ids(Backfiller.MaxRunsAhead)), _ => true, Skeleton);
        Assert.Equal(Backfiller.MaxRunsAhead, first.Runs.Count);
        Assert.Empty(fill.Assign(Peers("late"), _ => true, Skeleton).Runs); // the window is full

        fill.Receive(Served(first.Runs[1], Run)); // fetched, but not hanging off the parent: held, not written
        Assert.Equal("-", WriteAll(fill));
        Assert.Empty(fill.Assign(Peers("late"), _ => true, Skeleton).Runs);

        fill.Receive(Served(first.Runs[0], Run));
        Assert.Equal("1-128 129-256", WriteAll(fill));
        Assert.Equal("late:2049-2176 later:2177-2304", Format(fill.Assign(Peers("late later"), _ => true, Skeleton)));
    }

    [Theory]
    [InlineData("empty bodies keep the whole window", 0, Backfiller.MaxRunsAhead)]
    [InlineData("bodies just under 32 KB: 64 MiB holds the whole window of 2,048 blocks", 32 * 1024 - 64, Backfiller.MaxRunsAhead)]
    [InlineData("100 KB bodies: 655 blocks fit, five whole runs", 100 * 1024, 5)]
    [InlineData("1 MB bodies: never fewer than two runs", 1024 * 1024, 2)]
    public void Large_bodies_shrink_the_window_to_the_bytes_held_ahead(string proves, int bodyBytes, int runsAhead)
    {
        var fill = AfterFirstRunServed(bodyBytes);
        Assert.Equal("1-128", WriteAll(fill));

        var next = fill.Assign(Peers(Ids(Backfiller.MaxRunsAhead + 4)), _ => true, Skeleton);

        Assert.True(runsAhead == next.Runs.Count, $"{proves}: {next.Runs.Count} runs, window {fill.WindowBlocks} blocks");
        Assert.Equal((ulong)(runsAhead * Run), fill.WindowBlocks);
    }

    public static TheoryData<string, string, string> ReorderCases => new()
    {
        // proves, order the three runs' answers arrive in, runs written after each arrival
        { "answers in order are written as each comes", "1 2 3", "1-128 | 129-256 | 257-384" },
        { "answers in reverse are held until the lowest comes, then written in order", "3 2 1", "- | - | 1-128 129-256 257-384" },
        { "an answer above a missing run waits for it", "1 3 2", "1-128 | - | 129-256 257-384" },
        { "the lowest arriving second releases the one before it", "2 1 3", "- | 1-128 129-256 | 257-384" },
    };

    [Theory]
    [MemberData(nameof(ReorderCases))]
    public void Runs_arriving_out_of_order_are_written_in_order(string proves, string arrivals, string expected)
    {
        var fill = new FillState(Chain[0], Chain[2_999]);
        var runs = fill.Assign(Peers("a b c"), _ => true, Skeleton).Runs;

        var written = arrivals.Split(' ').Select(i =>
        {
            fill.Receive(Served(runs[int.Parse(i, CultureInfo.InvariantCulture) - 1], Run));
            return WriteAll(fill);
        });

        Assert.True(expected == string.Join(" | ", written), proves);
        Assert.Equal(Chain[3 * Run], fill.Parent);
        Assert.Empty(fill.InFlight);
    }

    public static TheoryData<string, int, string> JoinedWriteCases => new()
    {
        // proves, blocks a write may take, writes after five queued runs are released by the lowest
        { "runs queued behind the writer go out as one write up to the cap", 3 * Run, "1-384 385-640" },
        { "a run that would pass the cap waits for the next write", (2 * Run) + 1, "1-256 257-512 513-640" },
        { "a run longer than the cap is written in parts", Run / 2, "1-64 65-128 129-192 193-256 257-320 321-384 385-448 449-512 513-576 577-640" },
    };

    [Theory]
    [MemberData(nameof(JoinedWriteCases))]
    public void Runs_that_continue_one_another_are_taken_as_one_write_within_the_cap(string proves, int maxBlocks, string expected)
    {
        var fill = new FillState(Chain[0], Chain[2_999]);
        var runs = fill.Assign(Peers("a b c d e"), _ => true, Skeleton).Runs;
        foreach (var run in runs.Skip(1))
        {
            fill.Receive(Served(run, Run));
        }
        fill.Receive(Served(runs[0], Run));

        var written = new List<string>();
        while (fill.TakeNextToWrite(maxBlocks) is { } blocks)
        {
            for (var i = 1; i < blocks.Count; i++)
            {
                Assert.Equal(blocks[i - 1].Header.Hash, blocks[i].Header.ParentHash);
            }
            fill.Written(blocks[^1].Header);
            written.Add($"{blocks[0].Header.Number}-{blocks[^1].Header.Number}");
        }

        Assert.True(expected == string.Join(' ', written), $"{proves}: {string.Join(' ', written)}");
        Assert.Equal(Chain[5 * Run], fill.Parent);
    }

    [Theory]
    [InlineData("empty bodies: a quarter of the window, four runs", 0, 4 * Run)]
    [InlineData("100 KB bodies: 8 MiB of them", 100 * 1024, 81)]
    [InlineData("1 MB bodies: never fewer than 16", 1024 * 1024, 16)]
    public void A_write_takes_the_blocks_that_hold_8_MiB_of_bodies_within_a_quarter_of_the_window(string proves, int bodyBytes, int expected)
    {
        var fill = AfterFirstRunServed(bodyBytes);

        Assert.True(expected == fill.BlocksPerWrite, $"{proves}: {fill.BlocksPerWrite}");
    }

    public static TheoryData<string, string, string, string, string> AnswerCases => new()
    {
        // proves, the answer to a's run 1-128, runs written then, idle peers next, runs handed out next
        { "a short answer is written as far as it goes and the rest of the run is asked again, before new runs", "served 50", "1-50", "a b", "a:51-128 b:129-256" },
        { "a full answer is written and the next runs are new ones", "served 128", "1-128", "a b", "a:129-256 b:257-384" },
        { "an empty answer writes nothing and its peer, lacking the range, is passed over for the run", "empty", "-", "a b", "b:1-128" },
        { "a failed answer writes nothing and the whole run goes to another peer (the peer set dropped this one)", "failed", "-", "b", "b:1-128" },
        { "an answer cut off by cancellation puts the whole run back", "cancelled", "-", "a", "a:1-128" },
    };

    [Theory]
    [MemberData(nameof(AnswerCases))]
    public void What_an_answer_lacks_is_asked_again(string proves, string answer, string written, string idleNext, string expected)
    {
        var fill = new FillState(Chain[0], Chain[2_999]);
        var run = fill.Assign(Peers("a"), _ => true, Skeleton).Runs.Single();

        fill.Receive(answer.Split(' ') switch
        {
            ["served", var count] => Served(run, int.Parse(count, CultureInfo.InvariantCulture)),
            ["empty"] => FetchResult.Empty(run.Peer, run.Run, TimeSpan.FromMilliseconds(1)),
            ["failed"] => FetchResult.Failed(run.Peer, run.Run, "served bodies that do not match their headers", DropCause.Misbehaved),
            ["cancelled"] => FetchResult.Cancelled(run.Peer, run.Run),
            _ => throw new ArgumentException(answer, nameof(answer)),
        });

        Assert.True(written == WriteAll(fill), $"{proves}: written");
        Assert.True(expected == Format(fill.Assign(Peers(idleNext), _ => true, Skeleton)), $"{proves}: handed out next");
    }

    public static TheoryData<string, ulong, bool, ulong, ulong, ulong?> ForkPointCases => new()
    {
        // proves, local head, skeleton on the branch (else on the local chain), skeleton tail, skeleton head, where
        // the fill starts (null: the skeleton does not hang off the canonical chain). The branch shares 0..60.
        { "a skeleton continuing the local head starts at the local head", 100, false, 101, 150, 100 },
        { "a skeleton reaching below the local head on the same chain starts at the local head", 100, false, 51, 150, 100 },
        { "a skeleton below the local head on the same chain starts at its own head: it is filled", 100, false, 51, 80, 80 },
        { "a branch leaving the local chain below its head starts where they last share a block", 100, true, 51, 150, 60 },
        { "a branch leaving it right above the tail starts at the tail's parent", 100, true, 61, 150, 60 },
        { "a branch leaving above the local head starts at the local head", 50, true, 31, 150, 50 },
        { "a skeleton whose tail does not hang off the canonical chain has no start", 100, true, 71, 150, null },
    };

    [Theory]
    [MemberData(nameof(ForkPointCases))]
    public void A_fill_starts_where_the_skeleton_and_the_canonical_chain_last_meet(
        string proves, ulong localHead, bool onBranch, ulong tail, ulong head, ulong? expected)
    {
        var local = TestChains.Linear(201);
        var skeleton = onBranch ? Branch : local;
        var subchain = new Subchain(head, tail, skeleton[tail - 1].Hash);

        var start = FillState.ForkPoint(subchain, localHead, n => n <= localHead ? local[n].Hash : null, n => n >= tail && n <= head ? skeleton[n] : null);

        Assert.True(expected == start, $"{proves}: {start}");
    }

    /// <summary>A fill whose first run (1–128) was served with bodies of <paramref name="bodyBytes"/> (0: empty), not yet written.</summary>
    private static FillState AfterFirstRunServed(int bodyBytes)
    {
        var fill = new FillState(Chain[0], Chain[2_999]);
        var first = fill.Assign(Peers("a"), _ => true, Skeleton).Runs[0];
        var body = bodyBytes == 0 ? GeneratedChain.EmptyBody : GeneratedChain.EmptyBody with { Transactions = [new byte[bodyBytes]] };
        fill.Receive(FetchResult.Served(first.Peer, first.Run, [.. first.Run.Select(h => new Block(h, body))], TimeSpan.FromMilliseconds(1)));
        return fill;
    }

    private static BlockHeader? Skeleton(ulong number) => number < (ulong)Chain.Length ? Chain[number] : null;

    private static string Ids(int count) => string.Join(' ', Enumerable.Range(0, count).Select(i => $"p{i:D2}"));

    private static ISyncPeer[] Peers(string ids) => [.. ids.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(id => new IdPeer(id))];

    private static FetchResult Served(RunAssignment run, int count) =>
        FetchResult.Served(run.Peer, run.Run, [.. run.Run.Take(count).Select(h => new Block(h, GeneratedChain.EmptyBody))], TimeSpan.FromMilliseconds(1));

    /// <summary>The writer's part of a turn, without the validator and the store: every run that hangs off the parent.</summary>
    private static string WriteAll(FillState fill)
    {
        var written = new List<string>();
        while (fill.TakeNextToWrite(maxBlocks: Run) is { } blocks) // a run at a time: the ranges show the runs
        {
            Assert.Equal(fill.Parent.Hash, blocks[0].Header.ParentHash);
            fill.Written(blocks[^1].Header);
            written.Add($"{blocks[0].Header.Number}-{blocks[^1].Header.Number}");
        }
        return written.Count == 0 ? "-" : string.Join(' ', written);
    }

    private static string Format(Assignments assigned) =>
        string.Join(' ', assigned.Runs.Select(a => $"{a.Peer.Id}:{a.Run[0].Number}-{a.Run[^1].Number}"));

    private static void AssertRunsAreSkeletonHeaders(Assignments assigned)
    {
        foreach (var (_, run) in assigned.Runs)
        {
            for (var i = 0; i < run.Count; i++)
            {
                Assert.Same(Chain[run[0].Number + (ulong)i], run[i]);
            }
        }
    }
}
