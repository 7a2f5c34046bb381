using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>The cycle's scratch window bookkeeping: which task a delivery was for, and how the window slides.</summary>
public sealed class ScratchWindowTests
{
    private const ulong Head = 999_999;

    [Theory]
    [InlineData("a request from the window head was task 0", Head, Head, 0)]
    [InlineData("a request a batch lower was task 1", Head, Head - 512, 1)]
    [InlineData("the last task of the window", Head, Head - (255 * 512), 255)]
    [InlineData("a request from below the window is no task of it (the window has moved on)", Head, Head - (256 * 512), -1)]
    [InlineData("a request from above the head is no task (an earlier window's)", Head, Head + 512, -1)]
    [InlineData("a request not starting on a task boundary is no task", Head, Head - 1, -1)]
    [InlineData("2^32 tasks below the head is no task, not task 0 of a wrapped int", 1UL << 50, (1UL << 50) - (512UL << 32), -1)]
    public void A_delivery_is_matched_to_its_task_by_origin(string proves, ulong head, ulong origin, int task)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(task, new ScratchWindow(head).TaskAt(origin));
    }

    [Fact]
    public void Sliding_moves_every_task_down_one_and_reuses_the_consumed_slots_as_the_last_task()
    {
        var window = new ScratchWindow(Head);
        var headers = GeneratedChain.Headers(3).ToArray(); // generated on access: one instance each
        var (a, b, c) = (new InProcessPeer("a", headers), new InProcessPeer("b", headers), new InProcessPeer("c", headers));
        var consumedSlots = window.SlotsOf(0);
        window.SlotsOf(0)[0] = headers[2];
        window.SlotsOf(1)[0] = headers[1];
        window.Assign(0, a, 10);
        window.Assign(1, b, 20);
        window.Decline(1, c);

        window.Slide(512);

        Assert.Equal(Head - 512, window.Head);
        Assert.Same(headers[1], window.SlotsOf(0)[0]);
        Assert.Same(b, window.OwnerOf(0));
        Assert.Equal(20, window.AskedAt(0));
        Assert.Same(c, window.DeclinedBy(0));
        Assert.Same(consumedSlots, window.SlotsOf(255));
        Assert.All(consumedSlots, Assert.Null);
        Assert.Null(window.OwnerOf(255));
        Assert.Null(window.DeclinedBy(255));
        Assert.Equal(0, window.TaskAt(Head - 512));
    }

    [Fact]
    public void A_discarded_first_batch_frees_its_task_and_keeps_the_others()
    {
        var window = new ScratchWindow(Head);
        var headers = GeneratedChain.Headers(3).ToArray(); // generated on access: one instance each
        var peer = new InProcessPeer("p", headers);
        window.SlotsOf(0)[0] = headers[2];
        window.SlotsOf(1)[0] = headers[1];
        window.Assign(0, peer, 1);
        window.Assign(1, peer, 2);

        window.DiscardFirst();

        Assert.All(window.SlotsOf(0), Assert.Null);
        Assert.Null(window.OwnerOf(0));
        Assert.Same(headers[1], window.SlotsOf(1)[0]);
        Assert.Same(peer, window.OwnerOf(1));
        Assert.Equal(Head, window.Head);
    }
}
