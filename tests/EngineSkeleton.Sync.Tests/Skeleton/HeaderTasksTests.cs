using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Sync.Tests.Skeleton;

public sealed class HeaderTasksTests
{
    [Fact]
    public void The_window_holds_whole_tasks_only()
    {
        Assert.Equal(0, HeaderTasks.ScratchHeaders % HeaderTasks.RequestHeaders);
        Assert.Equal(256, HeaderTasks.TaskCount);
    }

    [Theory]
    [InlineData("the window starts just below the tail", 1_000UL, 999UL)]
    [InlineData("a tail at block 1 leaves an empty window (head 0, the genesis)", 1UL, 0UL)]
    public void Scratch_head_is_one_below_the_tail(string proves, ulong tail, ulong expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, HeaderTasks.ScratchHead(tail));
    }

    [Fact]
    public void A_tail_at_the_genesis_has_no_window() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => HeaderTasks.ScratchHead(0));

    [Theory]
    [InlineData("nothing is left to fetch when the tail is block 1", 0UL, 0)]
    [InlineData("one header above the genesis is one task", 1UL, 1)]
    [InlineData("a full first task exactly reaches block 1", 512UL, 1)]
    [InlineData("one header more needs a second task", 513UL, 2)]
    [InlineData("a window ending exactly at block 1 uses every task", 131_072UL, 256)]
    [InlineData("far from the genesis every task fits", 1_000_000UL, 256)]
    public void Tasks_fit_until_the_genesis(string proves, ulong scratchHead, int expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, HeaderTasks.TasksFitting(scratchHead));
    }

    [Theory]
    [InlineData("task 0 starts at the window head with a full batch", 999_999UL, 0, 999_999UL, 512)]
    [InlineData("task 1 starts a batch lower", 999_999UL, 1, 999_487UL, 512)]
    [InlineData("the last task of a full window", 999_999UL, 255, 869_439UL, 512)]
    [InlineData("the task reaching the genesis is trimmed to stop at block 1", 1_000UL, 1, 488UL, 488)]
    [InlineData("a window head below one batch is a single short task", 511UL, 0, 511UL, 511)]
    [InlineData("a batch may end exactly at block 1", 1_024UL, 1, 512UL, 512)]
    [InlineData("the smallest request: block 1 alone", 1UL, 0, 1UL, 1)]
    public void Each_task_asks_for_its_batch_newest_first(string proves, ulong scratchHead, int task, ulong origin, int count)
    {
        Assert.NotEmpty(proves);
        var range = HeaderTasks.RangeOf(scratchHead, task);
        Assert.Equal(new HeaderRange(origin, count), range);
        Assert.True(range.Lowest >= 1, "the genesis is never requested");
    }

    [Theory]
    [InlineData("a head at the checkpoint leaves nothing to fetch", 1_000UL, 1_000UL, 0, 0, 0UL, 0)]
    [InlineData("one header above the checkpoint is one task of one header", 1_001UL, 1_000UL, 1, 0, 1_001UL, 1)]
    [InlineData("the task reaching the checkpoint stops just above it", 1_599UL, 1_000UL, 2, 1, 1_087UL, 87)]
    [InlineData("a batch may end exactly above the checkpoint", 2_024UL, 1_000UL, 2, 1, 1_512UL, 512)]
    [InlineData("far above the checkpoint every task fits and is full", 1_000_000UL, 1_000UL, 256, 255, 869_440UL, 512)]
    public void Tasks_stop_above_a_checkpoint_anchor(string proves, ulong scratchHead, ulong anchor, int fitting, int task, ulong origin, int count)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(fitting, HeaderTasks.TasksFitting(scratchHead, anchor));
        if (fitting == 0)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => HeaderTasks.RangeOf(scratchHead, 0, anchor));
            return;
        }
        var range = HeaderTasks.RangeOf(scratchHead, task, anchor);
        Assert.Equal(new HeaderRange(origin, count), range);
        Assert.True(range.Lowest > anchor, "the anchor and what lies below it are never requested");
    }

    [Theory]
    [InlineData("a task past the genesis does not exist", 1_000UL, 2)]
    [InlineData("an empty window has no task 0", 0UL, 0)]
    [InlineData("a task past the window does not exist", 1_000_000UL, 256)]
    [InlineData("task numbers are not negative", 1_000_000UL, -1)]
    public void Tasks_outside_the_window_are_refused(string proves, ulong scratchHead, int task)
    {
        Assert.NotEmpty(proves);
        Assert.Throws<ArgumentOutOfRangeException>(() => HeaderTasks.RangeOf(scratchHead, task));
    }

    [Theory]
    [InlineData("the window head is in task 0", 999UL, 999UL, 0)]
    [InlineData("task 0 covers 512 numbers", 999UL, 488UL, 0)]
    [InlineData("the next number below is task 1", 999UL, 487UL, 1)]
    [InlineData("the tail itself is above the window", 999UL, 1_000UL, -1)]
    [InlineData("the genesis is never in a task", 999UL, 0UL, -1)]
    [InlineData("the oldest number of a full window is in the last task", 200_000UL, 68_929UL, 255)]
    [InlineData("one below the window is in no task", 200_000UL, 68_928UL, -1)]
    public void Task_of_a_number(string proves, ulong scratchHead, ulong number, int expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, HeaderTasks.TaskOf(scratchHead, number));
    }

    [Theory]
    [InlineData("a one-header window is one task of one", 1UL)]
    [InlineData("a window just short of a batch is one short task", 511UL)]
    [InlineData("a window of exactly one batch", 512UL)]
    [InlineData("one header past a batch spills into a second task", 513UL)]
    [InlineData("a short last task ends at block 1", 1_000UL)]
    [InlineData("a full window ending exactly at block 1", 131_072UL)]
    [InlineData("a full window ending one above block 1", 131_073UL)]
    [InlineData("a full window far from the genesis", 1_000_000UL)]
    public void Tasks_tile_the_window_without_gap_or_overlap(string proves, ulong scratchHead)
    {
        Assert.NotEmpty(proves);
        var expectedOrigin = scratchHead;
        for (var task = 0; task < HeaderTasks.TasksFitting(scratchHead); task++)
        {
            var range = HeaderTasks.RangeOf(scratchHead, task);
            Assert.Equal(expectedOrigin, range.Origin);
            Assert.Equal(task, HeaderTasks.TaskOf(scratchHead, range.Origin));
            Assert.Equal(task, HeaderTasks.TaskOf(scratchHead, range.Lowest));
            Assert.Equal(task * HeaderTasks.RequestHeaders, HeaderTasks.SlotOf(scratchHead, range.Origin));
            expectedOrigin = range.Lowest - 1;
        }
        // Either the genesis was reached or the window is full.
        Assert.True(expectedOrigin == 0 || scratchHead - expectedOrigin == HeaderTasks.ScratchHeaders);
    }

    [Theory]
    [InlineData("with nothing taken the batch at the tail goes first", 1_000_000UL, "", 0, 0)]
    [InlineData("requested or delivered tasks are skipped", 1_000_000UL, "xx.x", 0, 2)]
    [InlineData("a search can resume after the task just handed out", 1_000_000UL, "x...", 2, 2)]
    [InlineData("near the genesis nothing beyond the fitting tasks is handed out", 1_000UL, "xx", 0, -1)]
    [InlineData("an empty window has nothing to hand out", 0UL, "", 0, -1)]
    public void The_lowest_free_task_is_handed_out(string proves, ulong scratchHead, string taken, int from, int expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, HeaderTasks.LowestFreeTask(scratchHead, Taken(taken), from));
    }

    [Theory]
    [InlineData("tasks neither requested nor delivered are needed, lowest first", 1_500UL, "", new[] { 0, 1, 2 })]
    [InlineData("taken tasks are not needed", 1_500UL, ".x", new[] { 0, 2 })]
    [InlineData("a fully taken window needs nothing", 1_500UL, "xxx", new int[0])]
    public void Needed_tasks(string proves, ulong scratchHead, string taken, int[] expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, HeaderTasks.NeededTasks(scratchHead, Taken(taken)));
    }

    [Theory]
    [InlineData("a written batch moves the tail 512 down: one task", 999_999UL, 999_488UL, 1)]
    [InlineData("two batches written in one go: two tasks", 999_999UL, 998_976UL, 2)]
    [InlineData("a tail that did not move slides nothing", 999UL, 1_000UL, 0)]
    [InlineData("the short batch ending at block 1 is one task", 488UL, 1UL, 1)]
    public void The_window_slides_by_the_batches_written(string proves, ulong scratchHead, ulong newTail, int expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(expected, HeaderTasks.TasksConsumed(scratchHead, newTail));
    }

    [Theory]
    [InlineData("a tail moved by part of a batch means the window must be rebuilt", 999_999UL, 999_000UL)]
    [InlineData("a tail cannot move up", 999UL, 1_001UL)]
    [InlineData("a tail cannot reach the genesis", 999UL, 0UL)]
    public void Moves_that_do_not_match_the_window_are_refused(string proves, ulong scratchHead, ulong newTail)
    {
        Assert.NotEmpty(proves);
        Assert.ThrowsAny<ArgumentException>(() => HeaderTasks.TasksConsumed(scratchHead, newTail));
    }

    [Theory]
    [InlineData("sliding moves later entries forward and clears the end", 3, new[] { 4, 5, 6, 7, 8, 0, 0, 0 })]
    [InlineData("sliding by nothing changes nothing", 0, new[] { 1, 2, 3, 4, 5, 6, 7, 8 })]
    [InlineData("sliding by the whole window clears it", 8, new[] { 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void Shift_slides_a_window(string proves, int by, int[] expected)
    {
        Assert.NotEmpty(proves);
        int[] window = [1, 2, 3, 4, 5, 6, 7, 8];
        HeaderTasks.Shift<int>(window, by);
        Assert.Equal(expected, window);
    }

    [Fact]
    public void Shift_clears_references_so_the_window_holds_nothing_stale()
    {
        string?[] owners = ["a", "b", "c"];
        HeaderTasks.Shift<string?>(owners, 1);
        Assert.Equal(new string?[] { "b", "c", null }, owners.AsEnumerable());
    }

    private static bool[] Taken(string pattern)
    {
        var taken = new bool[HeaderTasks.TaskCount];
        for (var i = 0; i < pattern.Length; i++)
        {
            taken[i] = pattern[i] == 'x';
        }
        return taken;
    }
}
