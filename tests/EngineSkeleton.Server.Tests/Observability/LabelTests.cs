using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Observability;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>The metrics' label values: closed sets read from the words the sync, the transports and the JWT check use.</summary>
public sealed class LabelTests
{
    public static TheoryData<string, string, string> Drops => new()
    {
        { "an RPC peer on another chain", "serves another chain: its genesis is 0x01, ours is 0x02", "another_chain" },
        { "a skeleton request past its timeout", "request for #4096 outstanding 61 s, past its timeout", "timeout" },
        { "a peer that did not answer in time", "no answer within 20 s (3 attempts)", "timeout" },
        { "headers that do not link to the tail", "headers do not link to the subchain tail", "unlinked" },
        { "an RPC node that refused the connection", "transport error: Connection refused (127.0.0.1:1)", "transport" },
        { "a rebuilt header that does not hash as claimed", "rebuilt header hash mismatch for block #5: the node says 0x1, its fields hash to 0x2", "bad_answer" },
        { "a node without block 0", "does not serve block 0 (eth_getBlockByNumber(0x0) answered null): its history is pruned, or it is still starting", "bad_answer" },
        { "a checkpoint body that does not match its header", "served a checkpoint body that does not match its header", "bad_answer" },
        { "words not known", "something new", "other" },
    };

    [Theory]
    [MemberData(nameof(Drops))]
    public void A_drop_reason_falls_in_its_category(string because, string reason, string category) =>
        Assert.True(ScrapeGauges.DropCategory(reason) == category, because);

    [Fact]
    public void Every_JWT_failure_and_known_error_code_has_its_own_label()
    {
        var failures = Enum.GetValues<JwtFailure>().Where(f => f != JwtFailure.None).Select(EngineApiMonitor.FailureLabel).ToList();
        Assert.Equal(failures.Count, failures.Distinct().Count());
        Assert.DoesNotContain("other", failures);
        Assert.Equal("ok", EngineApiMonitor.OutcomeLabel(null));
        Assert.Equal("unsupported_fork", EngineApiMonitor.OutcomeLabel(-38005));
        Assert.Equal("other_error", EngineApiMonitor.OutcomeLabel(-1));
    }
}
