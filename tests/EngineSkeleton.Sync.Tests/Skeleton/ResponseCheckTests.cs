using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Sync.Tests.Skeleton;

public sealed class ResponseCheckTests
{
    private static readonly IReadOnlyList<BlockHeader> Chain = GeneratedChain.Headers(2_000, seed: 7);
    private static readonly IReadOnlyList<BlockHeader> OtherChain = GeneratedChain.Headers(2_000, seed: 8);

    /// <summary>How the answer differs from the honest one: the chain's headers origin, origin−1, … (count of them).</summary>
    public enum Answer
    {
        Honest,
        Empty,
        StartsAbove,
        StartsBelow,
        OneMore,
        OneShort,
        RepeatsOne,
        SkipsOne,
        Ascending,
        FirstAltered,
        MiddleAltered,
        LastAltered,
        OtherChain,
    }

    public static TheoryData<string, ulong, int, Answer, ResponseProblem, Blame> Cases => new()
    {
        { "a full batch from the asked origin is accepted", 1_500, 512, Answer.Honest, ResponseProblem.None, Blame.None },
        { "the trimmed batch ending at block 1 is accepted", 300, 300, Answer.Honest, ResponseProblem.None, Blame.None },
        { "a single header is a batch", 1, 1, Answer.Honest, ResponseProblem.None, Blame.None },
        { "an empty answer is a peer without the range: ours to reschedule, not a fault", 1_500, 512, Answer.Empty, ResponseProblem.Empty, Blame.Ours },
        { "an answer starting above the origin is the peer's fault", 1_500, 512, Answer.StartsAbove, ResponseProblem.WrongStart, Blame.Peer },
        { "an answer starting below the origin is the peer's fault", 1_500, 512, Answer.StartsBelow, ResponseProblem.WrongStart, Blame.Peer },
        { "more headers than asked for are refused", 1_500, 512, Answer.OneMore, ResponseProblem.TooMany, Blame.Peer },
        { "one header short is refused: a peer with the first has all its ancestors", 1_500, 512, Answer.OneShort, ResponseProblem.TooFew, Blame.Peer },
        { "a header served twice breaks the numbering", 1_500, 512, Answer.RepeatsOne, ResponseProblem.BrokenNumbering, Blame.Peer },
        { "a header left out breaks the numbering even at the right count", 1_500, 512, Answer.SkipsOne, ResponseProblem.BrokenNumbering, Blame.Peer },
        { "oldest-first order is refused", 1_000, 512, Answer.Ascending, ResponseProblem.BrokenNumbering, Blame.Peer },
        { "a header altered inside the batch breaks its child's parent link", 1_500, 512, Answer.MiddleAltered, ResponseProblem.BrokenHashLink, Blame.Peer },
        { "the oldest header altered breaks the last link", 1_500, 512, Answer.LastAltered, ResponseProblem.BrokenHashLink, Blame.Peer },
        { "the newest header altered leaves the batch consistent: only the link to the tail can catch it", 1_500, 512, Answer.FirstAltered, ResponseProblem.None, Blame.None },
        { "another chain with the right numbers is consistent: only the link to the tail can catch it", 1_500, 512, Answer.OtherChain, ResponseProblem.None, Blame.None },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Answers_are_checked_against_the_request(string proves, ulong origin, int count, Answer answer, ResponseProblem problem, Blame blame)
    {
        Assert.NotEmpty(proves);
        var verdict = ResponseCheck.Check(new HeaderRange(origin, count), Build(origin, count, answer));
        Assert.Equal(problem, verdict.Problem);
        Assert.Equal(blame, verdict.Blame);
        Assert.Equal(problem == ResponseProblem.None, verdict.IsAccepted);
        Assert.Equal(problem == ResponseProblem.None, verdict.Reason.Length == 0);
    }

    [Theory]
    [InlineData("the batch whose newest header is the tail's parent links", Answer.Honest, ResponseProblem.None, Blame.None)]
    [InlineData("a newest header altered does not hash to the tail's parent hash", Answer.FirstAltered, ResponseProblem.TailMismatch, Blame.Peer)]
    [InlineData("another chain's batch does not link to the tail and costs the peer", Answer.OtherChain, ResponseProblem.TailMismatch, Blame.Peer)]
    public void The_batch_at_the_tail_must_link_to_next(string proves, Answer answer, ResponseProblem problem, Blame blame)
    {
        Assert.NotEmpty(proves);
        const ulong tail = 1_501;
        var next = Chain[(int)tail].ParentHash;

        var verdict = ResponseCheck.LinksToTail(Build(tail - 1, 512, answer), next);

        Assert.Equal(problem, verdict.Problem);
        Assert.Equal(blame, verdict.Blame);
    }

    [Theory]
    [InlineData("asking for nothing is a bug of ours", 10UL, 0)]
    [InlineData("asking below block 1 (for the genesis) is a bug of ours", 10UL, 11)]
    public void Requests_the_skeleton_never_makes_are_refused(string proves, ulong origin, int count)
    {
        Assert.NotEmpty(proves);
        Assert.Throws<ArgumentOutOfRangeException>(() => ResponseCheck.Check(new HeaderRange(origin, count), [Chain[(int)origin]]));
    }

    private static List<BlockHeader> Build(ulong origin, int count, Answer answer)
    {
        static List<BlockHeader> Run(IReadOnlyList<BlockHeader> chain, ulong from, int n) =>
            [.. Enumerable.Range(0, n).Select(i => chain[(int)(from - (ulong)i)])];
        static BlockHeader Altered(BlockHeader header) => header with { ExtraData = [0xba, 0xd0] };

        var honest = Run(Chain, origin, count);
        switch (answer)
        {
            case Answer.Honest:
                return honest;
            case Answer.Empty:
                return [];
            case Answer.StartsAbove:
                return Run(Chain, origin + 1, count);
            case Answer.StartsBelow:
                return Run(Chain, origin - 1, count);
            case Answer.OneMore:
                return Run(Chain, origin, count + 1);
            case Answer.OneShort:
                return Run(Chain, origin, count - 1);
            case Answer.RepeatsOne:
                honest.Insert(10, honest[10]);
                honest.RemoveAt(honest.Count - 1);
                return honest;
            case Answer.SkipsOne:
                honest.RemoveAt(10);
                honest.Add(Chain[(int)(origin - (ulong)count)]);
                return honest;
            case Answer.Ascending:
                return [.. Enumerable.Range(0, count).Select(i => Chain[(int)origin + i])];
            case Answer.FirstAltered:
                honest[0] = Altered(honest[0]);
                return honest;
            case Answer.MiddleAltered:
                honest[count / 2] = Altered(honest[count / 2]);
                return honest;
            case Answer.LastAltered:
                honest[^1] = Altered(honest[^1]);
                return honest;
            case Answer.OtherChain:
                return Run(OtherChain, origin, count);
            default:
                throw new ArgumentOutOfRangeException(nameof(answer));
        }
    }
}
