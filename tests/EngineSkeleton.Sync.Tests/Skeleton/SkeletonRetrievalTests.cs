using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static EngineSkeleton.Sync.Beacon.SyncRequestOutcome;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>
/// go-ethereum's TestSkeletonSyncRetrievals as a table, run against our loop: peers (some misbehaving, some
/// joining late, some holding answers), a head, maybe a new head mid-sync, and the subchains, served headers and
/// dropped peers that must result. A fake clock never moves, so no request times out and every peer's estimates
/// depend only on what it served: where which peer gets which task follows from that, the counts are exact.
/// </summary>
public sealed class SkeletonRetrievalTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>geth's requestHeaders + 100: with the head here, #100 is the lowest header of the first request and #99 the first of the next.</summary>
    private const ulong OnBoundary = HeaderTasks.RequestHeaders + 100;

    private static readonly IReadOnlyList<BlockHeader> Main = GeneratedChain.Headers(2_001);

    /// <summary>Shares #0–#999 with <see cref="Main"/>: the side chain of geth's last case (its fork is at #5,000 of 10,000).</summary>
    private static readonly IReadOnlyList<BlockHeader> SideFrom1000 = GeneratedChain.Fork(Main, 999, 10, seed: 1);

    /// <summary>Shares #0–#400 with <see cref="Main"/>; its head #500 lies below a subchain tail at #588.</summary>
    private static readonly IReadOnlyList<BlockHeader> SideFrom401 = GeneratedChain.Fork(Main, 400, 100, seed: 2);

    public static TheoryData<string, RetrievalCase> Cases => new()
    {
        {
            "without peers the sync holds its head alone; a peer joining later fills the subchain down to the genesis",
            new(At(Main, 2_000), [],
                Mid: new("2000→2000", false, ""),
                Then: new(new("2000→1", true, "late=1999"), LatePeer: Peer("late")))
        },
        {
            "one peer syncs to the genesis in the first round; a second joining afterwards is asked for nothing",
            new(At(Main, 2_000), [Peer("p1")],
                Mid: new("2000→1", true, "p1=1999"),
                Then: new(new("2000→1", true, "p1=1999 p2=0"), LatePeer: Peer("p2")))
        },
        {
            "three peers share the download, each header served once (the split is the peers' estimates' business); a fourth joining afterwards is asked for nothing",
            new(At(Main, 2_000), [Peer("p1"), Peer("p2"), Peer("p3")],
                Mid: new("2000→1", true, "p1+p2+p3=1999"),
                Then: new(new("2000→1", true, "p1+p2+p3=1999 p4=0"), LatePeer: Peer("p4")))
        },
        {
            "a peer withholding #99, the first header of a request, answers that request empty: that is what an honest peer without the range says, so unlike geth we keep it; the sync waits at tail #100 until a good peer joins",
            new(At(Main, OnBoundary), [Peer("header-skipper") with { WithholdAt = 99 }],
                Mid: new("612→100", false, "header-skipper=512"),
                Then: new(new("612→1", true, "header-skipper=512 good-peer=99"), LatePeer: Peer("good-peer")))
        },
        {
            "a peer withholding #50, inside a request, answers it short and is dropped (geth too); a good peer joining later finishes",
            new(At(Main, OnBoundary), [Peer("header-skipper") with { WithholdAt = 50 }],
                Mid: new("612→100", false, "header-skipper=561", "header-skipper"),
                Then: new(new("612→1", true, "header-skipper=561 good-peer=99", "header-skipper"), LatePeer: Peer("good-peer")))
        },
        {
            "a peer lacking #99 and below keeps answering empty, yet the task reaches a peer joining later even when every tie favours the lacking one (docs/quality.md: it costs only itself)",
            new(At(Main, OnBoundary), [Peer("lacking") with { WithholdAt = 99 }],
                Mid: new("612→100", false, "lacking=512"),
                Then: new(new("612→1", true, "lacking=512 synced=99"), LatePeer: Peer("synced")))
        },
        {
            "a peer repeating #99, the first header of a request, is dropped for the oversized answer; a good peer joining later finishes",
            new(At(Main, OnBoundary), [Peer("header-duper") with { DuplicateAt = 99 }],
                Mid: new("612→100", false, "header-duper=612", "header-duper"),
                Then: new(new("612→1", true, "header-duper=612 good-peer=99", "header-duper"), LatePeer: Peer("good-peer")))
        },
        {
            "a peer repeating #50, inside a request, is dropped; a good peer joining later finishes",
            new(At(Main, OnBoundary), [Peer("header-duper") with { DuplicateAt = 50 }],
                Mid: new("612→100", false, "header-duper=612", "header-duper"),
                Then: new(new("612→1", true, "header-duper=612 good-peer=99", "header-duper"), LatePeer: Peer("good-peer")))
        },
        {
            "a peer serving a changed #99 answers a self-consistent batch that does not link to the tail: dropped, the batch never stored; a good peer joining later finishes",
            new(At(Main, OnBoundary), [Peer("header-changer") with { ChangeAt = 99 }],
                Mid: new("612→100", false, "header-changer=611", "header-changer"),
                Then: new(new("612→1", true, "header-changer=611 good-peer=99", "header-changer"), LatePeer: Peer("good-peer")))
        },
        {
            "a peer serving a changed #50 breaks the hash links inside its answer: dropped, nothing of it stored; a good peer joining later finishes",
            new(At(Main, OnBoundary), [Peer("header-changer") with { ChangeAt = 50 }],
                Mid: new("612→100", false, "header-changer=611", "header-changer"),
                Then: new(new("612→1", true, "header-changer=611 good-peer=99", "header-changer"), LatePeer: Peer("good-peer")))
        },
        {
            "geth's merge bug: after #1024 linked, a forced #1026 starts a new subchain whose top batch is held until the two batches below it are in; the top batch merges with the old subchain and the queued batches are discarded, not consumed over the shifted window (4 × 512 served, as geth)",
            new(At(Main, 1_024), [Peer("p1") with { Hold = new(Origin: 1_025, ReleaseAfterAccepted: 1_023 + 513) }, Peer("p2") with { Hold = new(Origin: 1_025, ReleaseAfterAccepted: 1_023 + 513) }],
                Mid: new("1024→1", true, "p1+p2=1023"),
                Then: new(new("1026→1", true, "p1+p2=2048"), NewHead: At(Main, 1_026)))
        },
        {
            "geth's lost-header bug: #1001 synced and filled, then a forced side-chain #1003 forking below #1001 links at #999, overwriting the leftover subchain's only header; exactly one subchain #1003→#1000 remains (ties go to the lower id, so the new-chain peer gets the top batch and the old one the batch below, which is never consumed)",
            new(At(Main, 1_001), [Peer("test-peer-oldchain")],
                Mid: new("1001→1", true, "test-peer-oldchain=1000"),
                Then: new(new("1003→1000", true, "test-peer-newchain=512 test-peer-oldchain=1490"), LatePeer: Peer("test-peer-newchain", SideFrom1000), NewHead: At(SideFrom1000, 1_003)),
                Fill: true,
                EndsOn: SideFrom1000,
                StoppedSubchains: "1003→1003")
        },
        {
            "answers held while a non-forced head extending the subchain arrives: the head is taken, the held answers still count, and the sync links with exactly the headers below the first head",
            new(At(Main, 1_024), [Peer("p1") with { Hold = new() }, Peer("p2") with { Hold = new() }],
                Mid: new("1024→1024", false, ""),
                Then: new(new("1025→1", true, "p1=512 p2=511"), NewHead: At(Main, 1_025, force: false)))
        },
        {
            "a non-forced head leaving a gap is refused and changes nothing: the held answers then complete the sync to the first head",
            new(At(Main, 1_000), [Peer("p") with { Hold = new() }],
                Mid: new("1000→1000", false, ""),
                Then: new(new("1000→1", true, "p=999"), NewHead: At(Main, 1_500, force: false, reply: RefusedNotExtending)))
        },
        {
            "a forced head leaving a gap restarts the cycle: the held answer of the old cycle is cancelled, the new subchain runs over the old one and links, every header served once",
            new(At(Main, 1_000), [Peer("p") with { Hold = new() }],
                Mid: new("1000→1000", false, ""),
                Then: new(new("1500→1", true, "p=1499"), NewHead: At(Main, 1_500)))
        },
        {
            "a forced side-chain head at or below the tail (a reorg) mid-sync restarts on it: the old subchain is dropped with its headers and the sync ends on the new branch (the headers stored are checked to be the new branch's); who serves the restarted cycle depends on whether the old-branch peer's cancelled request is back before the first assignment — if it is, that peer serves the old branch there and is dropped — so served counts are not compared",
            new(At(Main, 1_100), [Peer("old") with { Hold = new(Origin: 587) }],
                Mid: new("1100→588", false, "old=512"),
                Then: new(new("500→1", true, Outcome.Any, Dropped: Outcome.Any), LatePeer: Peer("fork", SideFrom401), NewHead: At(SideFrom401, 500)),
                EndsOn: SideFrom401)
        },
        {
            "an older stored subchain that the download reaches, and whose head hashes to what the tail wants, is merged: its headers are not fetched again",
            new(At(Main, 1_000), [Peer("p")],
                Mid: new("1000→1", true, "p=811"),
                Stored: [new(Main, 700, 300)])
        },
        {
            "an older stored subchain of another branch that the download reaches is trimmed and overwritten, not merged",
            new(At(Main, 1_000), [Peer("p")],
                Mid: new("1000→1", true, "p=999"),
                Stored: [new(SideFrom401, 500, 450)])
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Retrieves_like_geth(string proves, RetrievalCase row)
    {
        ArgumentNullException.ThrowIfNull(row);
        using var store = SkeletonStore.OpenInMemory();
        foreach (var span in row.Stored ?? [])
        {
            var headers = Enumerable.Range((int)span.Tail, (int)(span.Head - span.Tail + 1)).Select(n => span.Chain[n]).ToList();
            var progress = store.LoadProgress() ?? SkeletonProgress.Empty;
            store.WriteBatch(headers, progress with { Subchains = [.. progress.Subchains, new Subchain(span.Head, span.Tail, span.Chain[(int)span.Tail].ParentHash)] });
        }
        var local = new CanonicalMap(Main[0]);
        IBackfiller filler = row.Fill ? new FillingBackfiller(store, local) : new IdleBackfiller();
        var time = new FakeTimeProvider();
        var peers = new PeerSet(time);
        var sync = new SkeletonSync(store, peers, filler, local, time, NullLogger<SkeletonSync>.Instance);

        var late = row.Then?.LatePeer;
        var specs = late is null ? row.Peers : [.. row.Peers, late];
        var releases = new List<(Hold Hold, TaskCompletionSource Release)>();
        var tracked = specs.Select(spec => Build(spec, releases)).ToList();
        var served = tracked.Select(p => p.Inner).ToList();
        var changed = specs.Where(s => s.ChangeAt is not null).Select(s => (Number: s.ChangeAt!.Value, Hash: Altered(s))).ToList();
        var storedBad = new List<ulong>();
        var watch = new SnapshotWatch(snapshot =>
        {
            // Runs on the loop's task after every event: the store holds exactly what was committed so far.
            foreach (var (number, hash) in changed)
            {
                if (store.GetHeader(number)?.Hash == hash)
                {
                    storedBad.Add(number);
                }
            }
        });
        sync.AfterEvent = watch.Observe;

        try
        {
            foreach (var peer in tracked.Take(row.Peers.Count))
            {
                sync.AddPeer(peer);
            }
            sync.Start();
            Assert.Equal(row.Head.Reply, await sync.SyncAsync(row.Head.Header, null, row.Head.Force).WaitAsync(Bound));
            await Reach(row.Mid, "mid");

            var newHead = row.Then?.NewHead;
            if (late is not null)
            {
                sync.AddPeer(tracked[^1]);
            }
            if (newHead is not null)
            {
                Assert.Equal(newHead.Reply, await sync.SyncAsync(newHead.Header, null, newHead.Force).WaitAsync(Bound));
            }
            await Task.WhenAll(releases.Select(async r =>
            {
                // Held answers go out once the new head is in the loop's state (so a restarted cycle has already
                // cancelled the old requests) and the engine has taken the headers the case waits for.
                await watch.Until(s => Taken(s, newHead) && s.Peers.Aggregate(0UL, (sum, p) => sum + p.ServedHeaders) >= r.Hold.ReleaseAfterAccepted).WaitAsync(Bound);
                r.Release.TrySetResult();
            }));
            if (row.Then is { } then)
            {
                await Reach(then.End, "end");
            }
        }
        finally
        {
            await sync.DisposeAsync().AsTask().WaitAsync(Bound);
        }

        // With the loop gone nothing changes any more: what was reached must still hold, in the store itself.
        var reached = row.Then?.End ?? row.Mid;
        var expected = row.StoppedSubchains is { } stopped ? reached with { Subchains = stopped } : reached;
        var stored = store.LoadProgress()!;
        var final = Outcome.Observe(
            expected,
            [.. stored.Subchains.Select(s => (s.Head, s.Tail))],
            sync.Snapshot.Linked,
            served,
            peers.Status().Where(p => p.Dropped).Select(p => p.Id));
        Assert.True(expected == final, $"{proves} (after the loop stopped): expected {expected}, have {final}");

        var chain = row.EndsOn ?? Main;
        var highest = new[] { row.Head.Number, row.Then?.NewHead?.Number ?? 0 }.Concat((row.Stored ?? []).Select(s => s.Head)).Max();
        for (var number = 1UL; number <= highest; number++)
        {
            var inside = stored.Subchains.Any(s => s.Tail <= number && number <= s.Head);
            var header = store.GetHeader(number);
            Assert.True(
                inside ? header?.Hash == chain[(int)number].Hash : header is null,
                $"{proves}: #{number} is {(inside ? "not the expected chain's header" : "stored outside every subchain")}");
        }
        Assert.True(storedBad.Count == 0, $"{proves}: a changed header was stored at #{string.Join(", #", storedBad.Distinct())}");
        // The peer set hands a peer one request at a time, across cycles too: a restart cancels requests, and a
        // peer is free again only once its cancelled request has come back.
        Assert.All(tracked, p => Assert.True(p.MostInFlight <= 1, $"{proves}: {p.Id} had {p.MostInFlight} requests in flight at once"));

        async Task Reach(Outcome want, string phase)
        {
            Outcome Seen(SkeletonSnapshot s) => Outcome.Observe(
                want,
                [.. (s.Progress?.Subchains ?? []).Select(c => (c.Head, c.Tail))],
                s.Linked,
                served,
                s.Peers.Where(p => p.Dropped).Select(p => p.Id));
            try
            {
                await watch.Until(s => Seen(s) == want).WaitAsync(Bound);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"{proves} ({phase}): expected {want}, last seen {Seen(watch.Last)}");
            }
        }
    }

    /// <summary>How the local chain holds blocks #101–#150 that are not a link point (<see cref="NonCanonicalCases"/>).</summary>
    public enum Held
    {
        /// <summary>Stored in full above the canonical head #100, never canonical.</summary>
        AboveTheHead,

        /// <summary>Canonical up to #150 once, then the head set back to #100 (a beacon node's rewind).</summary>
        RewoundOffTheHead,

        /// <summary>A side branch from #101 stored in full under the canonical head #150 of the main chain.</summary>
        SideBranchUnderTheHead,
    }

    public static TheoryData<string, Held> NonCanonicalCases => new()
    {
        { "blocks #101–#150 stored in full above the canonical head #100 are not a link point: the subchain links at the head itself and descends to #101", Held.AboveTheHead },
        { "blocks #101–#150 canonical until the head was set back to #100 are not a link point any more: the subchain links at #100 and descends to #101", Held.RewoundOffTheHead },
        { "side-branch blocks #101–#150 stored in full under the canonical head #150, with the main chain's blocks canonical at their numbers, are not a link point: the subchain descends to #101, where the branches meet", Held.SideBranchUnderTheHead },
    };

    /// <summary>
    /// geth's TestSkeletonLinkSkipsNonCanonical over the production <see cref="ChainLink"/> and a real chain store:
    /// linking on a block that is present but not canonical, or above the local head, would leave the skeleton
    /// hanging off a block the backfiller never makes canonical (docs/sync.md, A cycle, step 4).
    /// </summary>
    [Theory]
    [MemberData(nameof(NonCanonicalCases))]
    public async Task Link_detection_skips_blocks_that_are_stored_but_not_canonical(string proves, Held held)
    {
        const int Canonical = 100;
        const int Present = 150;
        var target = held == Held.SideBranchUnderTheHead ? GeneratedChain.Fork(Main, Canonical, 99, seed: 3) : Main;
        using var chainStore = ChainStore.OpenInMemory();
        chainStore.Initialize(new Block(Main[0], GeneratedChain.EmptyBody));
        chainStore.WriteBlocks([.. Enumerable.Range(1, Present).Select(n => new Block(Main[n], GeneratedChain.EmptyBody))]);
        switch (held)
        {
            case Held.AboveTheHead:
                chainStore.SetForkchoice(Main[Canonical], null, null);
                break;
            case Held.RewoundOffTheHead:
                chainStore.SetForkchoice(Main[Present], null, null);
                chainStore.SetForkchoice(Main[Canonical], null, null);
                break;
            case Held.SideBranchUnderTheHead:
                chainStore.SetForkchoice(Main[Present], null, null);
                chainStore.WriteBlocks([.. Enumerable.Range(Canonical + 1, Present - Canonical).Select(n => new Block(target[n], GeneratedChain.EmptyBody))]);
                break;
        }

        using var store = SkeletonStore.OpenInMemory();
        var time = new FakeTimeProvider();
        var sync = new SkeletonSync(store, new PeerSet(time), new IdleBackfiller(), new ChainLink(chainStore), time, NullLogger<SkeletonSync>.Instance);
        var watch = new SnapshotWatch();
        sync.AfterEvent = watch.Observe;
        try
        {
            sync.AddPeer(new InProcessPeer("peer", [.. target.Take(200)]));
            sync.Start();
            await sync.SyncAsync(target[199], null, force: true).WaitAsync(Bound);
            await watch.Until(s => s.Linked).WaitAsync(Bound);
        }
        finally
        {
            await sync.DisposeAsync().AsTask().WaitAsync(Bound);
        }

        Assert.Equal(new SkeletonProgress([new Subchain(199, Canonical + 1, target[Canonical].Hash)], null), store.LoadProgress());
        Assert.True(store.GetHeader(Canonical + 1)?.Hash == target[Canonical + 1].Hash, proves);
    }

    private static HeadSpec At(IReadOnlyList<BlockHeader> chain, ulong number, bool force = true, SyncRequestOutcome reply = Accepted) =>
        new(chain, number, force, reply);

    private static PeerSpec Peer(string id, IReadOnlyList<BlockHeader>? serves = null) => new(id, serves ?? Main);

    private static TrackedPeer Build(PeerSpec spec, List<(Hold, TaskCompletionSource)> releases)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var peer = new InProcessPeer(spec.Id, spec.Serves)
        {
            Faults = new PeerFaults
            {
                WithholdAt = spec.WithholdAt,
                DuplicateAt = spec.DuplicateAt,
                ChangeAt = spec.ChangeAt,
                Gate = spec.Hold is { Origin: null } ? release.Task : null,
            },
        };
        if (spec.Hold is { Origin: { } origin })
        {
            peer.OnRequest = (request, token) => request.Origin == origin ? release.Task.WaitAsync(token) : Task.CompletedTask;
        }
        if (spec.Hold is { } hold)
        {
            releases.Add((hold, release));
        }
        return new TrackedPeer(peer);
    }

    /// <summary>The hash of the changed header the peer serves at its ChangeAt (InProcessPeer alters the extraData).</summary>
    private static Hash256 Altered(PeerSpec spec)
    {
        var peer = new InProcessPeer("probe", spec.Serves) { Faults = new PeerFaults { ChangeAt = spec.ChangeAt } };
        var number = spec.ChangeAt!.Value;
        return peer.GetHeadersReverseAsync(number, 1, CancellationToken.None).GetAwaiter().GetResult()[0].Hash;
    }

    /// <summary>Whether the loop has dealt with the case's new head: refused it, or holds it as the newest subchain's head.</summary>
    private static bool Taken(SkeletonSnapshot snapshot, HeadSpec? head) =>
        head is null
        || head.Reply == RefusedNotExtending
        || snapshot.Progress is { Subchains: [var newest, ..] } && newest.Head == head.Number;
}
