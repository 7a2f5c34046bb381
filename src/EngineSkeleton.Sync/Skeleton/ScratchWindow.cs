using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// A cycle's scratch window (geth skeleton.go's scratchSpace, scratchOwners and scratchHead): the
/// <see cref="HeaderTasks.TaskCount"/> tasks of <see cref="HeaderTasks.RequestHeaders"/> slots below the newest
/// subchain's tail, task 0 adjoining it, and for each task the peer asked and when, and the peer that last answered
/// it empty. The arithmetic is <see cref="HeaderTasks"/>'; this is the bookkeeping, owned by the loop alone.
/// </summary>
internal sealed class ScratchWindow
{
    // One array of slots per task: sliding the window rotates the 256 task arrays instead of moving 131,072 header
    // references, with their GC write barriers, for every 512 headers consumed.
    private readonly BlockHeader?[][] _slots = new BlockHeader?[HeaderTasks.TaskCount][];
    private readonly ISyncPeer?[] _owners = new ISyncPeer?[HeaderTasks.TaskCount];
    private readonly ISyncPeer?[] _declined = new ISyncPeer?[HeaderTasks.TaskCount];
    private readonly long[] _askedAt = new long[HeaderTasks.TaskCount];

    /// <param name="head">The number in slot 0: the one just below the newest subchain's tail.</param>
    public ScratchWindow(ulong head)
    {
        Head = head;
        for (var task = 0; task < _slots.Length; task++)
        {
            _slots[task] = new BlockHeader?[HeaderTasks.RequestHeaders];
        }
    }

    /// <summary>The number in slot 0 of task 0; falls as the tail moves down.</summary>
    public ulong Head { get; private set; }

    /// <summary>
    /// The task a request starting at <paramref name="origin"/> was made for, or −1 if the window has moved past it
    /// (or it never was one: a delivery of another window).
    /// </summary>
    public int TaskAt(ulong origin)
    {
        if (origin > Head || (Head - origin) % HeaderTasks.RequestHeaders != 0)
        {
            return -1;
        }
        var task = (Head - origin) / HeaderTasks.RequestHeaders;
        return task < HeaderTasks.TaskCount ? (int)task : -1;
    }

    /// <summary>Task <paramref name="task"/>'s slots, newest header first; a delivered answer fills them from 0.</summary>
    public BlockHeader?[] SlotsOf(int task) => _slots[task];

    /// <summary>The peer whose request for the task is out, or null if none is.</summary>
    public ISyncPeer? OwnerOf(int task) => _owners[task];

    /// <summary>When the task's request went out (a <see cref="TimeProvider"/> timestamp); meaningful while it has an owner.</summary>
    public long AskedAt(int task) => _askedAt[task];

    /// <summary>The peer whose last answer to the task was empty: it lacks the range, so another idle peer goes first.</summary>
    public ISyncPeer? DeclinedBy(int task) => _declined[task];

    public void Assign(int task, ISyncPeer peer, long now)
    {
        _owners[task] = peer;
        _askedAt[task] = now;
    }

    /// <summary>The task's request is over (answered, failed or given up on): the task may go to a peer again.</summary>
    public void Free(int task) => _owners[task] = null;

    public void Decline(int task, ISyncPeer peer) => _declined[task] = peer;

    /// <summary>Every task may go to any peer again, including one that answered it empty (the stall watchdog's retry).</summary>
    public void ForgetDeclines() => Array.Clear(_declined);

    /// <summary>Task 0's batch did not link to the tail: its headers are thrown away and the task is free.</summary>
    public void DiscardFirst()
    {
        Array.Clear(_slots[0]);
        _owners[0] = null;
    }

    /// <summary>
    /// Task 0's batch was consumed (<paramref name="consumed"/> headers): every task moves one down, the emptied
    /// slot array becomes the new last task's, and the head falls with the tail.
    /// </summary>
    public void Slide(int consumed)
    {
        var slots = _slots[0];
        Array.Clear(slots);
        HeaderTasks.Shift(_slots.AsSpan(), 1);
        _slots[^1] = slots;
        HeaderTasks.Shift(_owners.AsSpan(), 1);
        HeaderTasks.Shift(_declined.AsSpan(), 1);
        HeaderTasks.Shift(_askedAt.AsSpan(), 1);
        Head -= (ulong)consumed;
    }
}
