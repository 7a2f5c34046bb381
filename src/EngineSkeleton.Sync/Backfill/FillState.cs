using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Backfill;

/// <summary>A run handed to a peer: it is asked for these headers' bodies.</summary>
internal readonly record struct RunAssignment(ISyncPeer Peer, List<BlockHeader> Run);

/// <summary>
/// What one <see cref="FillState.Assign"/> handed out, and the number at which the skeleton stopped hanging together
/// if this call is the one that found it (it is found once; no run is read past it afterwards).
/// </summary>
internal readonly record struct Assignments(List<RunAssignment> Runs, ulong? SkeletonGapAt);

/// <summary>
/// One fill's state (docs/sync.md, Backfill, steps 2 and 3), held by the fill's one task and changed only by the steps
/// below, which do no I/O of their own: the skeleton and the peer set come in as delegates, the answers as values, so
/// a test drives a fill step by step — as reth's reverse headers downloader keeps its sync in one state struct and
/// the skeleton keeps its rules in <see cref="Skeleton.SkeletonRules"/>.
/// <para>
/// A turn of the fill (<c>Backfiller.FillFromAsync</c>) runs the steps in this order:
/// <list type="number">
/// <item><see cref="Assign"/>: the idle peers, fastest first, each take the lowest run to ask again, else the next run
/// of skeleton headers while the window has room. Nothing in flight after it ends the fill.</item>
/// <item><see cref="Receive"/>: one answer. What matched waits for the writer, the rest is asked again.</item>
/// <item><see cref="TakeNextToWrite"/> and <see cref="Written"/>, until no fetched run hangs off the parent: the
/// caller checks each run against <see cref="Parent"/> and writes it, so runs reach the chain in order whatever
/// order they arrive in.</item>
/// </list>
/// Every run of the window is in one place at a time: to ask, in flight, or fetched and waiting for the writer.
/// </para>
/// </summary>
internal sealed class FillState
{
    /// <summary>
    /// The blocks ahead of <see cref="Parent"/> a fill may hold, scheduled, in flight or fetched: geth's body queue
    /// throttles so too (eth/downloader/queue.go, blockCacheMaxItems), bounding the memory of reordering.
    /// </summary>
    private const ulong Window = Backfiller.MaxRunsAhead * Backfiller.BatchSize;

    /// <summary>The fewest blocks ahead, however large the blocks: two runs, so one is fetched while one is written.</summary>
    private const ulong MinWindow = 2 * Backfiller.BatchSize;

    // Bytes a served block's body took, as a moving average (a tenth per run): sizes the window to
    // Backfiller.BytesAhead. Zero until the first run is served: the whole window.
    private double _bytesPerBlock;

    // Runs to ask (again) by first number; sorted because the lowest goes out first, as geth's ReserveBodies takes
    // the lowest blocks first: the writer waits for it.
    private readonly SortedDictionary<ulong, List<BlockHeader>> _toAsk = [];
    private readonly Dictionary<ulong, string> _inFlight = [];
    private readonly Dictionary<ulong, List<Block>> _fetched = [];
    private readonly HashSet<string> _lacking = new(StringComparer.Ordinal);
    private bool _skeletonEnds;

    /// <param name="start">The block the fill hangs off: the canonical head, or the fork point of a reorg (<see cref="ForkPoint"/>).</param>
    /// <param name="target">The skeleton head the fill ends at.</param>
    public FillState(BlockHeader start, BlockHeader target)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(target);
        Parent = start;
        Scheduled = start;
        Target = target;
    }

    /// <summary>The skeleton head the fill ends at.</summary>
    public BlockHeader Target { get; }

    /// <summary>The last block written, or the start: the next run written must hang off it.</summary>
    public BlockHeader Parent { get; private set; }

    /// <summary>The last skeleton header handed out in a run: the next new run starts above it.</summary>
    public BlockHeader Scheduled { get; private set; }

    /// <summary>Runs out with a peer: first number → the peer's id.</summary>
    public IReadOnlyDictionary<ulong, string> InFlight => _inFlight;

    /// <summary>Whether the peer answered a run empty: it lacks the range and is not asked again this fill.</summary>
    public bool Lacks(string peerId) => _lacking.Contains(peerId);

    /// <summary>
    /// The newest block the skeleton <paramref name="subchain"/> and the canonical chain share, or null if the skeleton
    /// does not hang off the canonical chain (it is not linked). The skeleton hangs off the canonical block below its
    /// tail, and both chains are hash-linked, so once they differ at a number they differ above it too: a binary
    /// search over [tail − 1, min(local head, skeleton head)] finds it in a few lookups (docs/sync.md, Backfill, step 1).
    /// </summary>
    /// <param name="subchain">The linked skeleton: its tail hangs off the canonical block below it.</param>
    /// <param name="localHead">The canonical head's number.</param>
    /// <param name="canonicalAt">The canonical hash at a number, null if none.</param>
    /// <param name="skeletonAt">The stored skeleton header at a number, null if none.</param>
    public static ulong? ForkPoint(Subchain subchain, ulong localHead, Func<ulong, Hash256?> canonicalAt, Func<ulong, BlockHeader?> skeletonAt)
    {
        ArgumentNullException.ThrowIfNull(subchain);
        ArgumentNullException.ThrowIfNull(canonicalAt);
        ArgumentNullException.ThrowIfNull(skeletonAt);
        var low = subchain.Tail - 1;
        if (canonicalAt(low) != subchain.Next)
        {
            return null;
        }
        var high = Math.Min(localHead, subchain.Head);
        while (low < high)
        {
            var mid = low + ((high - low + 1) / 2);
            if (skeletonAt(mid) is { } header && canonicalAt(mid) == header.Hash)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }
        return low;
    }

    /// <summary>
    /// Step 1: hands runs to <paramref name="idleFastestFirst"/> in that order, skipping peers that lack the range, until
    /// the peers or the runs run out. A peer <paramref name="claim"/> refuses (busy or dropped since the list was made)
    /// gets nothing and its run stays first in line for the next peer.
    /// </summary>
    /// <param name="idleFastestFirst">
    /// The peers' free request slots, fastest first: a peer appears once per request it may still take
    /// (<see cref="PeerSet.FreeSlotsFastestFirst"/>).
    /// </param>
    /// <param name="claim">Marks the peer busy with a request; false if it cannot be (<see cref="PeerSet.MarkBusy"/>).</param>
    /// <param name="skeletonAt">The stored skeleton header at a number, null if none.</param>
    public Assignments Assign(IReadOnlyList<ISyncPeer> idleFastestFirst, Func<ISyncPeer, bool> claim, Func<ulong, BlockHeader?> skeletonAt)
    {
        ArgumentNullException.ThrowIfNull(idleFastestFirst);
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(skeletonAt);
        var assigned = new List<RunAssignment>();
        ulong? gapAt = null;
        foreach (var peer in idleFastestFirst)
        {
            if (_lacking.Contains(peer.Id))
            {
                continue;
            }
            if (TakeRun(skeletonAt, ref gapAt) is not { } run)
            {
                break;
            }
            if (!claim(peer))
            {
                _toAsk[run[0].Number] = run;
                continue;
            }
            _inFlight.Add(run[0].Number, peer.Id);
            assigned.Add(new RunAssignment(peer, run));
        }
        return new Assignments(assigned, gapAt);
    }

    /// <summary>
    /// Step 2: an answer to a run handed out by <see cref="Assign"/>. Served blocks wait for the writer and the headers
    /// past the last of them are asked again (geth's queue.deliver puts what a delivery lacked back in its task queue);
    /// any other outcome puts the whole run back, and an empty one marks its peer as lacking the range. The peer's
    /// rates and drops are the caller's (the peer set's), not the fill's.
    /// </summary>
    public void Receive(FetchResult answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var run = answer.Run;
        var first = run[0].Number;
        if (!_inFlight.Remove(first))
        {
            throw new InvalidOperationException($"an answer for the run from {first}, which is not in flight");
        }
        switch (answer.Outcome)
        {
            case FetchOutcome.Served:
                var blocks = answer.Blocks!;
                _fetched[first] = blocks;
                Measure(blocks);
                if (blocks.Count < run.Count)
                {
                    _toAsk[run[blocks.Count].Number] = run[blocks.Count..];
                }
                return;
            case FetchOutcome.Empty:
                _lacking.Add(answer.Peer.Id);
                break;
            default:
                break;
        }
        _toAsk[first] = run;
    }

    /// <summary>
    /// Step 3: the fetched blocks that hang off <see cref="Parent"/>, at most <paramref name="maxBlocks"/>, taken out of
    /// the state as one list: the run above the parent (its first <paramref name="maxBlocks"/> when it is longer; the
    /// rest waits for the next write) and the fetched runs that continue it while the total stays within the cap;
    /// null while the run above the parent is still to ask or in flight, whatever has arrived above it. The caller
    /// writes them in one transaction (fewer commits when runs queue up behind the writer) and reports
    /// <see cref="Written"/>.
    /// </summary>
    public List<Block>? TakeNextToWrite(int maxBlocks)
    {
        if (!_fetched.Remove(Parent.Number + 1, out var blocks))
        {
            return null;
        }
        if (blocks.Count > maxBlocks)
        {
            _fetched[blocks[maxBlocks].Header.Number] = blocks[maxBlocks..]; // the rest is the next write's
            blocks.RemoveRange(maxBlocks, blocks.Count - maxBlocks);
        }
        while (_fetched.TryGetValue(blocks[^1].Header.Number + 1, out var next) && blocks.Count + next.Count <= maxBlocks)
        {
            _fetched.Remove(blocks[^1].Header.Number + 1);
            blocks.AddRange(next);
        }
        return blocks;
    }

    /// <summary>
    /// Blocks one write may take (<see cref="TakeNextToWrite"/>): as many as hold <see cref="Backfiller.BytesPerWrite"/>
    /// of bodies by the size served so far, at least <see cref="MinBlocksPerWrite"/>, at most a quarter of the window:
    /// four runs of empty blocks, ~80 mainnet-sized ones. LiteDB holds a transaction's dirty pages in memory until the
    /// commit: the cap bounds what a write holds by size, not by count.
    /// </summary>
    public int BlocksPerWrite => (int)(_bytesPerBlock <= 0
        ? Window / 4
        : Math.Clamp((ulong)(Backfiller.BytesPerWrite / _bytesPerBlock), MinBlocksPerWrite, Window / 4));

    /// <summary>The fewest blocks a write takes however large they are (a write of one 16 MB block still happens).</summary>
    private const ulong MinBlocksPerWrite = 16;

    /// <summary>Step 3: blocks up to <paramref name="head"/> are written; the next run written hangs off it.</summary>
    public void Written(BlockHeader head)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(head.Number, Parent.Number);
        Parent = head;
    }

    /// <summary>
    /// How far above the last block written runs are handed out: <see cref="Backfiller.MaxRunsAhead"/> runs of
    /// <see cref="Backfiller.BatchSize"/>, fewer when that many blocks of the size served so far would hold more than
    /// <see cref="Backfiller.BytesAhead"/> in memory, never fewer than two runs.
    /// </summary>
    internal ulong WindowBlocks => _bytesPerBlock <= 0
        ? Window
        : Math.Clamp((ulong)(Backfiller.BytesAhead / _bytesPerBlock) / Backfiller.BatchSize * Backfiller.BatchSize, MinWindow, Window);

    private void Measure(List<Block> blocks)
    {
        if (blocks.Count == 0)
        {
            return;
        }
        long bytes = 0;
        foreach (var block in blocks)
        {
            bytes += block.Body.EncodedLength;
        }
        var perBlock = (double)bytes / blocks.Count;
        _bytesPerBlock = _bytesPerBlock <= 0 ? perBlock : _bytesPerBlock + ((perBlock - _bytesPerBlock) / 10);
    }

    /// <summary>The lowest run to ask again, else the next run of skeleton headers while the window has room.</summary>
    private List<BlockHeader>? TakeRun(Func<ulong, BlockHeader?> skeletonAt, ref ulong? gapAt)
    {
        if (_toAsk.Count > 0)
        {
            using var lowest = _toAsk.GetEnumerator();
            lowest.MoveNext();
            var (first, again) = lowest.Current;
            _toAsk.Remove(first);
            return again;
        }
        if (_skeletonEnds || Scheduled.Number >= Target.Number || Scheduled.Number >= Parent.Number + WindowBlocks)
        {
            return null;
        }
        var last = Math.Min(Target.Number, Scheduled.Number + Backfiller.BatchSize);
        var run = NextRun(Scheduled, last, skeletonAt);
        if (run.Count < (int)(last - Scheduled.Number))
        {
            _skeletonEnds = true; // the headers above no longer hang together (the skeleton moved on): stop scheduling
            gapAt = Scheduled.Number + (ulong)run.Count + 1;
        }
        if (run.Count == 0)
        {
            return null;
        }
        Scheduled = run[^1];
        return run;
    }

    /// <summary>Skeleton headers above <paramref name="after"/> up to <paramref name="last"/>, each hanging off the one before.</summary>
    private static List<BlockHeader> NextRun(BlockHeader after, ulong last, Func<ulong, BlockHeader?> skeletonAt)
    {
        var headers = new List<BlockHeader>((int)(last - after.Number));
        var parent = after;
        for (var n = after.Number + 1; n <= last; n++)
        {
            if (skeletonAt(n) is not { } header || header.ParentHash != parent.Hash)
            {
                break;
            }
            headers.Add(header);
            parent = header;
        }
        return headers;
    }
}
