namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// One reverse header request: <see cref="Count"/> headers from <see cref="Origin"/> down to <see cref="Lowest"/>.
/// </summary>
internal readonly record struct HeaderRange(ulong Origin, int Count)
{
    /// <summary>The oldest header the request covers.</summary>
    public ulong Lowest => Origin - (ulong)Count + 1;
}

/// <summary>
/// The arithmetic of the skeleton's scratch window (go-ethereum skeleton.go's scratch space). Headers are fetched
/// below the newest subchain's tail into a window of <see cref="ScratchHeaders"/> slots; slot 0 holds the
/// window's head, the number just below the tail, and the numbers fall by one per slot. The window is cut into
/// <see cref="TaskCount"/> tasks of <see cref="RequestHeaders"/> slots, task 0 adjoining the tail. Task i asks for
/// (head − 512·i, min(512, head − 512·i)) in reverse, so the genesis header is never asked for: block 1's parent
/// hash is enough to link. When task 0 is written, the tail moves down and the window slides by whole tasks.
/// Pure functions; the skeleton loop owns the window.
/// </summary>
internal static class HeaderTasks
{
    /// <summary>
    /// Slots in the scratch window: headers that may be downloaded ahead of the tail at once (geth's
    /// scratchHeaders). At about 0.5 KB a header this is ~64 MB, which bounds the sync's memory; the price of a
    /// bigger window is more headers fetched before they can be checked, since a batch is only verified once the
    /// batches above it have linked it to the tail.
    /// </summary>
    public const int ScratchHeaders = 131_072;

    /// <summary>
    /// Headers per request (geth's requestHeaders). Fixed rather than sized per peer: headers are small and whole
    /// batches make the window simple; 512 × ~0.5 KB stays far under the 2 MB soft answer limit of eth/68
    /// servers and under geth's 1,024-header serving cap.
    /// </summary>
    public const int RequestHeaders = 512;

    /// <summary>Tasks in the window. The window holds whole tasks only; a dangling half task would be useless.</summary>
    public const int TaskCount = ScratchHeaders / RequestHeaders;

    /// <summary>
    /// The window's head: the number just below <paramref name="tail"/>. A tail of 0 is the genesis and leaves
    /// nothing to fetch, so it is refused.
    /// </summary>
    public static ulong ScratchHead(ulong tail)
    {
        ArgumentOutOfRangeException.ThrowIfZero(tail);
        return tail - 1;
    }

    /// <summary>
    /// Tasks with something to fetch under <paramref name="scratchHead"/>: all of them, unless the genesis (or the
    /// local chain's <paramref name="anchor"/>, a checkpoint) is less than a window away. A head at the anchor (the
    /// tail is the block above it) leaves none.
    /// </summary>
    public static int TasksFitting(ulong scratchHead, ulong anchor = 0) =>
        scratchHead <= anchor ? 0 : (int)Math.Min(TaskCount, (scratchHead - anchor + RequestHeaders - 1) / RequestHeaders);

    /// <summary>The window slot holding <paramref name="number"/>, or −1 if the number is above the head or below the window.</summary>
    public static int SlotOf(ulong scratchHead, ulong number) =>
        number > scratchHead || scratchHead - number >= ScratchHeaders ? -1 : (int)(scratchHead - number);

    /// <summary>
    /// The task whose request covers <paramref name="number"/>, or −1 if no task does: above the head, below the
    /// window, or the genesis (never requested).
    /// </summary>
    public static int TaskOf(ulong scratchHead, ulong number)
    {
        var slot = number == 0 ? -1 : SlotOf(scratchHead, number);
        return slot < 0 ? -1 : slot / RequestHeaders;
    }

    /// <summary>
    /// The request for <paramref name="task"/>: (head − 512·task, min(512, that origin − anchor)), newest first; the
    /// anchor (0: the genesis) and anything below it are never asked for.
    /// </summary>
    public static HeaderRange RangeOf(ulong scratchHead, int task, ulong anchor = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(task);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(task, TasksFitting(scratchHead, anchor));
        var origin = scratchHead - ((ulong)task * RequestHeaders);
        return new HeaderRange(origin, (int)Math.Min(RequestHeaders, origin - anchor));
    }

    /// <summary>
    /// The lowest-numbered task (nearest the tail) at or after <paramref name="from"/> that fits and is not
    /// <paramref name="taken"/> (requested or delivered); −1 if none. Lowest first is geth's order: the tail's
    /// batch is the one everything else waits on.
    /// </summary>
    public static int LowestFreeTask(ulong scratchHead, ReadOnlySpan<bool> taken, int from = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        var fitting = Math.Min(TasksFitting(scratchHead), taken.Length);
        for (var task = from; task < fitting; task++)
        {
            if (!taken[task])
            {
                return task;
            }
        }
        return -1;
    }

    /// <summary>Every task still to fetch, lowest first: fitting and neither requested nor delivered.</summary>
    public static IReadOnlyList<int> NeededTasks(ulong scratchHead, ReadOnlySpan<bool> taken)
    {
        var needed = new List<int>();
        for (var task = LowestFreeTask(scratchHead, taken); task >= 0; task = LowestFreeTask(scratchHead, taken, task + 1))
        {
            needed.Add(task);
        }
        return needed;
    }

    /// <summary>
    /// Whole tasks the window slides by when the tail moves from <paramref name="scratchHead"/> + 1 down to
    /// <paramref name="newTail"/>. The tail moves a whole batch at a time, except the last batch before the
    /// genesis, which is short and ends the window (new tail 1). Any other move means the window no longer
    /// matches the subchain (a merge or a new head) and must be rebuilt: that is a caller bug, so it throws.
    /// </summary>
    public static int TasksConsumed(ulong scratchHead, ulong newTail)
    {
        ArgumentOutOfRangeException.ThrowIfZero(newTail);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(newTail, scratchHead + 1);
        var consumed = scratchHead + 1 - newTail;
        if (consumed % RequestHeaders == 0)
        {
            return (int)(consumed / RequestHeaders);
        }
        if (newTail == 1 && consumed < RequestHeaders)
        {
            return 1;
        }
        throw new ArgumentException(
            $"the tail moves by whole batches of {RequestHeaders}; #{scratchHead + 1} to #{newTail} is {consumed} headers",
            nameof(newTail));
    }

    /// <summary>
    /// Slides <paramref name="window"/> toward index 0 by <paramref name="by"/> entries and clears the freed end.
    /// Works for the header slots (shift by tasks × <see cref="RequestHeaders"/>) and per-task owners alike.
    /// </summary>
    public static void Shift<T>(Span<T> window, int by)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(by);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(by, window.Length);
        window[by..].CopyTo(window);
        window[^by..].Clear();
    }
}
