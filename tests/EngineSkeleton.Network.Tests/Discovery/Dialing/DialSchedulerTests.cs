using System.Net;
using System.Threading.Channels;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Dialing;
using EngineSkeleton.Network.Discovery.Enr;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.Discovery.Dialing;

/// <summary>The dial scheduler: which candidates it dials, how many at once, and when it tries a failed one again.</summary>
public sealed class DialSchedulerTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly ChainSpec Mainnet = Networks.ByName("mainnet")!;

    /// <summary>Mainnet at Prague: block 22,431,084, timestamp 1,746,612,311 (Prague's activation).</summary>
    private static readonly (ulong Number, ulong Timestamp) MainnetHead = (22_431_084, 1_746_612_311);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
    private readonly Channel<(DialCandidate Candidate, TaskCompletionSource<bool> Outcome)> _dials = Channel.CreateUnbounded<(DialCandidate, TaskCompletionSource<bool>)>();
    private readonly NodeKey _self = NodeKey.Generate();
    private readonly HashSet<NodeId> _connected = [];
    private DialScheduler _scheduler = null!;

    public Task InitializeAsync()
    {
        _scheduler = Make(maxDialed: 2, netRestrict: []);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        while (_dials.Reader.TryRead(out var dial))
        {
            dial.Outcome.TrySetResult(false);
        }
        await _scheduler.DisposeAsync();
        _self.Dispose();
    }

    private DialScheduler Make(int maxDialed, IReadOnlyList<IPNetwork> netRestrict)
    {
        var filter = new ForkFilter(Mainnet);
        var scheduler = new DialScheduler(
            new DialSchedulerOptions(maxDialed, netRestrict, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10)),
            _self.Id,
            async (candidate, ct) =>
            {
                var outcome = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                await _dials.Writer.WriteAsync((candidate, outcome), ct);
                return await outcome.Task.WaitAsync(ct);
            },
            forkId => filter.Check(forkId, MainnetHead.Number, MainnetHead.Timestamp),
            id => _connected.Contains(id),
            _time,
            NullLogger.Instance);
        scheduler.Start();
        return scheduler;
    }

    private static DialCandidate Candidate(ForkId? forkId = null, bool withRecord = true, string ip = "127.0.0.1", DialSource source = DialSource.Discv4)
    {
        using var key = NodeKey.Generate();
        EnrRecord? record = null;
        if (withRecord)
        {
            var enr = new LocalEnr(key, 1);
            enr.SetIp(IPAddress.Parse(ip));
            enr.SetTcp(30303);
            if (forkId is { } id)
            {
                enr.SetEth(id);
            }
            record = enr.Record;
        }
        return new DialCandidate(key.Id, IPAddress.Parse(ip), 30303, record, source);
    }

    private static ForkId MainnetForkId => ForkId.For(Mainnet, MainnetHead.Number, MainnetHead.Timestamp);

    public static TheoryData<string> VerdictNames() => [.. Verdicts.Keys];

    private static readonly Dictionary<string, (Func<DialCandidate> Make, DialVerdict Expected)> Verdicts = new()
    {
        ["a record with our fork id is dialed"] = (() => Candidate(MainnetForkId), DialVerdict.Queued),
        ["a node that sent no record (no EIP-868) is dialed; its Status is checked at the handshake"] = (() => Candidate(withRecord: false), DialVerdict.Queued),
        ["a record of another chain's fork id is not dialed"] = (() => Candidate(new ForkId(0xdeadbeef, 0)), DialVerdict.IncompatibleFork),
        ["a record of mainnet before the merge, stale (its next fork is not the one we passed), is not dialed"] = (() => Candidate(new ForkId(0xf0afd0e3, 12_345_678)), DialVerdict.IncompatibleFork),
        ["a record without an eth entry (not an eth node) is not dialed, as geth's filter"] = (() => Candidate(forkId: null), DialVerdict.NoEthEntry),
    };

    [Theory]
    [MemberData(nameof(VerdictNames))]
    public async Task A_candidate_is_dialed_only_if_its_record_allows(string why)
    {
        var (make, expected) = Verdicts[why];
        var candidate = make();

        var verdict = _scheduler.Offer(candidate);

        Assert.True(expected == verdict, why);
        if (expected == DialVerdict.Queued)
        {
            var dial = await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound);
            Assert.Equal(candidate.Id, dial.Candidate.Id);
        }
        else
        {
            Assert.Equal(0, _scheduler.Dialing);
        }
    }

    [Fact]
    public void Ourselves_and_connected_nodes_are_not_dialed()
    {
        var connected = Candidate(withRecord: false);
        _connected.Add(connected.Id);

        Assert.Equal(DialVerdict.Connected, _scheduler.Offer(connected));
        Assert.Equal(DialVerdict.Self, _scheduler.Offer(new DialCandidate(_self.Id, IPAddress.Loopback, 30303, null, DialSource.Dns)));
    }

    [Fact]
    public async Task Netrestrict_keeps_dials_inside_its_networks()
    {
        await _scheduler.DisposeAsync();
        _scheduler = Make(maxDialed: 2, netRestrict: [IPNetwork.Parse("127.0.0.0/24")]);

        Assert.Equal(DialVerdict.NetRestricted, _scheduler.Offer(Candidate(withRecord: false, ip: "127.0.1.3")));
        Assert.Equal(DialVerdict.Queued, _scheduler.Offer(Candidate(withRecord: false, ip: "127.0.0.9")));
        Assert.Equal(IPAddress.Parse("127.0.0.9"), (await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound)).Candidate.Address);
    }

    [Fact]
    public async Task No_more_than_the_dialed_share_run_at_once_and_a_finished_dial_frees_its_slot()
    {
        var candidates = Enumerable.Range(0, 5).Select(_ => Candidate(withRecord: false)).ToList();
        foreach (var candidate in candidates)
        {
            Assert.Equal(DialVerdict.Queued, _scheduler.Offer(candidate));
        }

        var first = await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        var second = await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.False(_dials.Reader.TryRead(out _));
        Assert.Equal(2, _scheduler.Dialing);
        Assert.Equal(3, _scheduler.Queued);

        first.Outcome.SetResult(true); // the session ended
        var third = await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(candidates[2].Id, third.Candidate.Id);
        Assert.Equal(DialSource.Discv4, _scheduler.SourceOf(second.Candidate.Id));
    }

    [Fact]
    public async Task A_failed_node_is_backed_off_and_dialed_again_once_the_backoff_passed()
    {
        var candidate = Candidate(withRecord: false);
        _scheduler.Offer(candidate);
        var dial = await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        dial.Outcome.SetResult(false);
        await WaitUntilIdleAsync();

        // 30 s, plus up to a fifth at random.
        Assert.Equal(DialVerdict.BackedOff, _scheduler.Offer(candidate));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(DialVerdict.BackedOff, _scheduler.Offer(candidate));
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(DialVerdict.Queued, _scheduler.Offer(candidate));
        (await _dials.Reader.ReadAsync().AsTask().WaitAsync(Bound)).Outcome.SetResult(false);
        await WaitUntilIdleAsync();

        // A second failure in a row doubles the wait: 59 s is not enough, 73 s is.
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(DialVerdict.BackedOff, _scheduler.Offer(candidate));
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(DialVerdict.Queued, _scheduler.Offer(candidate));
    }

    [Theory]
    [InlineData(50, 16)]
    [InlineData(3, 1)]
    [InlineData(1, 1)]
    [InlineData(0, 1)]
    public void The_dialed_share_is_a_third_of_maxpeers_as_geths(int maxPeers, int dialed) =>
        Assert.Equal(dialed, DialSchedulerOptions.DialedShare(maxPeers));

    /// <summary>The dial's bookkeeping runs after its outcome is set; bounded polling on the scheduler's own count.</summary>
    private async Task WaitUntilIdleAsync()
    {
        for (var i = 0; i < 1000 && _scheduler.Dialing > 0; i++)
        {
            await Task.Yield();
            await Task.Delay(1);
        }
        Assert.Equal(0, _scheduler.Dialing);
    }
}
