using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Testing.Peers;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>
/// One row of the retrieval table (after go-ethereum's TestSkeletonSyncRetrievals): a sync to <see cref="Head"/>
/// with <see cref="Peers"/> over a store that may already hold <see cref="Stored"/> subchains, until
/// <see cref="Mid"/> holds; then, if <see cref="Then"/> is given, a late peer and/or a new head, until its end
/// outcome holds. Once the loop has stopped, the last outcome must still hold in the store, with
/// <see cref="StoppedSubchains"/> if given: stopping suspends the backfiller, and what it reports filled is deleted
/// from the skeleton (geth's cleanStales, which geth's own test never reaches as it checks before terminating).
/// The stored headers must then be those of <see cref="EndsOn"/> (the main chain if null), and none outside the
/// subchains. <see cref="Fill"/> uses a backfiller that makes the linked subchain canonical at once.
/// </summary>
public sealed record RetrievalCase(
    HeadSpec Head,
    IReadOnlyList<PeerSpec> Peers,
    Outcome Mid,
    AfterMid? Then = null,
    IReadOnlyList<StoredSpan>? Stored = null,
    bool Fill = false,
    IReadOnlyList<BlockHeader>? EndsOn = null,
    string? StoppedSubchains = null)
{
    /// <summary>Short, so test names stay readable: the sentence in the first column says what the row is.</summary>
    public override string ToString() => $"head #{Head.Number}, peers {string.Join(' ', Peers.Select(p => p.Id))}";
}

/// <summary>
/// A head handed to the sync: header <see cref="Number"/> of <see cref="Chain"/>, forced (forkchoiceUpdated) or
/// not (newPayload), and the answer it must get.
/// </summary>
public sealed record HeadSpec(IReadOnlyList<BlockHeader> Chain, ulong Number, bool Force = true, SyncRequestOutcome Reply = SyncRequestOutcome.Accepted)
{
    public BlockHeader Header => Chain[(int)Number];
}

/// <summary>
/// A peer: the chain it serves, the <see cref="PeerFaults"/> header faults it has, and whether it holds answers
/// (<see cref="Hold"/>).
/// </summary>
public sealed record PeerSpec(
    string Id,
    IReadOnlyList<BlockHeader> Serves,
    ulong? WithholdAt = null,
    ulong? DuplicateAt = null,
    ulong? ChangeAt = null,
    Hold? Hold = null);

/// <summary>
/// The peer holds its answers — every one if <see cref="Origin"/> is null (through <see cref="PeerFaults.Gate"/>),
/// else those to requests starting at that number (through <see cref="InProcessPeer.OnRequest"/>) — until the
/// case's new head has been taken (or refused) and the engine has accepted at least
/// <see cref="ReleaseAfterAccepted"/> headers in all. No clock is involved: the release is a completed task.
/// </summary>
public sealed record Hold(ulong? Origin = null, ulong ReleaseAfterAccepted = 0);

/// <summary>What happens once <see cref="RetrievalCase.Mid"/> holds: a peer joins, then a head arrives; then <see cref="End"/> must hold.</summary>
public sealed record AfterMid(Outcome End, PeerSpec? LatePeer = null, HeadSpec? NewHead = null);

/// <summary>Headers <see cref="Tail"/>..<see cref="Head"/> of <see cref="Chain"/> stored as one subchain before the sync starts.</summary>
public sealed record StoredSpan(IReadOnlyList<BlockHeader> Chain, ulong Head, ulong Tail);

/// <summary>
/// What a case expects, compared by value with what was observed. <see cref="Subchains"/> is newest first as
/// "head→tail" joined by ", ". <see cref="Served"/> counts headers the peers put in answers (rejected answers
/// included, as geth counts them) as space-separated terms "id=N", or "a+b=N" where only the sum is fixed; a
/// peer named in no term must have served nothing. <see cref="Dropped"/> lists the dropped peers' ids by id.
/// "*" for either means "not compared": for rows whose split of work between peers depends on thread timing.
/// </summary>
public sealed record Outcome(string Subchains, bool Linked, string Served, string Dropped = "")
{
    public const string Any = "*";

    /// <summary>
    /// The observed outcome, with the served counts written in the shape of <paramref name="expected"/>'s terms
    /// (so "a+b=N" observes the sum only); a peer no term names and that served something is added on its own.
    /// </summary>
    public static Outcome Observe(
        Outcome expected, IReadOnlyList<(ulong Head, ulong Tail)> subchains, bool linked, IReadOnlyList<InProcessPeer> peers, IEnumerable<string> dropped)
    {
        if (expected.Served == Any)
        {
            return new Outcome(string.Join(", ", subchains.Select(s => $"{s.Head}→{s.Tail}")), linked, Any, expected.Dropped == Any ? Any : string.Join(' ', dropped.Order(StringComparer.Ordinal)));
        }
        var named = new HashSet<string>(StringComparer.Ordinal);
        var terms = new List<string>();
        foreach (var term in expected.Served.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var ids = term[..term.IndexOf('=', StringComparison.Ordinal)].Split('+');
            // An id the case does not have is a typo in the table: Single throws.
            var sum = ids.Sum(id => peers.Single(p => p.Id == id).HeadersServed);
            terms.Add($"{string.Join('+', ids)}={sum}");
            named.UnionWith(ids);
        }
        foreach (var peer in peers)
        {
            if (!named.Contains(peer.Id) && peer.HeadersServed > 0)
            {
                terms.Add($"{peer.Id}={peer.HeadersServed}");
            }
        }
        return new Outcome(
            string.Join(", ", subchains.Select(s => $"{s.Head}→{s.Tail}")),
            linked,
            string.Join(' ', terms),
            string.Join(' ', dropped.Order(StringComparer.Ordinal)));
    }
}
