using System.Net;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.Dialing;
using EngineSkeleton.Network.Discovery.Dns;
using EngineSkeleton.Network.Discovery.Enr;
using EngineSkeleton.Network.Tests.DevP2p;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Network.Tests.Discovery.Dns;

/// <summary>DNS discovery against trees the tests sign themselves, served from memory.</summary>
public sealed class DnsDiscoveryTests
{
    private const string Domain = "nodes.localhost";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static EnrRecord RecordOf(NodeKey key, int tcpPort, ForkId? forkId)
    {
        var enr = new LocalEnr(key, 1);
        enr.SetIp(IPAddress.Loopback);
        enr.SetTcp(tcpPort);
        enr.SetUdp(tcpPort);
        if (forkId is { } id)
        {
            enr.SetEth(id);
        }
        return enr.Record;
    }

    /// <summary>A tree of <paramref name="records"/> under one branch, its root signed by <paramref name="signer"/>.</summary>
    private static SignedZone Tree(NodeKey signer, IEnumerable<EnrRecord> records)
    {
        var zone = new SignedZone(Domain);
        var leaves = records.Select(r => zone.Add(r.ToString())).ToArray();
        zone.Sign(signer, zone.Branch(leaves), zone.Branch());
        return zone;
    }

    [Fact]
    public async Task Every_record_of_a_signed_tree_is_offered_with_its_address_and_record()
    {
        using var signer = NodeKey.Generate();
        using var a = NodeKey.Generate();
        using var b = NodeKey.Generate();
        var zone = Tree(signer, [RecordOf(a, 30303, new ForkId(1, 0)), RecordOf(b, 30304, null)]);
        var dns = new DnsDiscovery([EnrTreeUrl.Parse(SignedZone.UrlOf(signer, Domain))], new ZoneResolver(zone.Entries), new ListLoggerProvider().CreateLogger("dns"));
        var offered = new List<DialCandidate>();

        var count = await dns.SyncAsync(offered.Add, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(2, count);
        Assert.Equal(2, offered.Count);
        Assert.Contains(offered, c => c.Id == a.Id);
        Assert.All(offered, c => Assert.Equal(DialSource.Dns, c.Source));
        Assert.Contains(offered, c => c.Id == b.Id && c.TcpPort == 30304 && c.Address.Equals(IPAddress.Loopback));
        Assert.Equal(new ForkId(1, 0), offered.Single(c => c.Id == a.Id).Record?.EthForkId);
    }

    public static TheoryData<string> BrokenTreeNames() => [.. BrokenTrees.Keys];

    private static readonly Dictionary<string, (Func<NodeKey, NodeKey, SignedZone> Make, string Kind)> BrokenTrees = new()
    {
        ["a root signed by another key than the URL's"] = ((urlKey, record) =>
        {
            using var other = NodeKey.Generate();
            return Tree(other, [RecordOf(record, 30303, null)]);
        }, "BadSignature"),
        ["a record whose text does not hash to its name"] = ((urlKey, record) =>
        {
            var zone = Tree(urlKey, [RecordOf(record, 30303, null)]);
            var leafName = zone.Entries.Keys.First(name => zone.Entries[name][0].StartsWith("enr:", StringComparison.Ordinal));
            using var swapped = NodeKey.Generate();
            zone.Entries[leafName] = [RecordOf(swapped, 30303, null).ToString()];
            return zone;
        }, "BadHash"),
    };

    [Theory]
    [MemberData(nameof(BrokenTreeNames))]
    public async Task A_broken_tree_is_refused_whole_with_a_clear_log_line(string why)
    {
        using var urlKey = NodeKey.Generate();
        using var record = NodeKey.Generate();
        var (make, kind) = BrokenTrees[why];
        var zone = make(urlKey, record);
        var url = SignedZone.UrlOf(urlKey, Domain);
        var logs = new ListLoggerProvider();
        var dns = new DnsDiscovery([EnrTreeUrl.Parse(url)], new ZoneResolver(zone.Entries), logs.CreateLogger("dns"));
        var offered = new List<DialCandidate>();

        var count = await dns.SyncAsync(offered.Add, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(0, count);
        Assert.Empty(offered);
        var line = Assert.Single(logs.Lines);
        Assert.StartsWith("Warning DNS node list refused url=" + url, line, StringComparison.Ordinal);
        Assert.Contains("kind=" + kind, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_nodes_of_a_tree_are_dialed_and_join_unless_their_fork_id_is_another_chains()
    {
        var time = TimeProvider.System;
        await using var us = new DevP2p.TestNode(new MemoryEthChain(10), time);
        await using var first = new DevP2p.TestNode(new MemoryEthChain(10), time);
        await using var second = new DevP2p.TestNode(new MemoryEthChain(10), time);
        await using var otherChain = new DevP2p.TestNode(new MemoryEthChain(10), time);
        foreach (var node in new[] { us, first, second, otherChain })
        {
            await node.Network.StartAsync(CancellationToken.None);
        }
        var head = us.Chain.Head;
        var ours = ForkId.For(us.Chain.Spec, head.Number, head.Timestamp);
        using var signer = NodeKey.Generate();
        var zone = Tree(signer,
        [
            RecordOf(otherChain.Key, otherChain.Network.Self.TcpPort, new ForkId(0xdeadbeef, 0)),
            RecordOf(first.Key, first.Network.Self.TcpPort, ours),
            RecordOf(second.Key, second.Network.Self.TcpPort, ours),
        ]);
        var options = new PeerDiscoveryOptions
        {
            ListenAddress = IPAddress.Loopback,
            Port = 0,
            DnsTrees = [SignedZone.UrlOf(signer, Domain)],
        };
        await using var discovery = new PeerDiscovery(options, us.Key, us.Network, us.Chain, time, NullLoggerFactory.Instance, new ZoneResolver(zone.Entries), v4Overrides: null);

        await discovery.StartAsync(CancellationToken.None);
        var joined = new[]
        {
            await us.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Bound),
            await us.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Bound),
        };

        Assert.Equal(
            new[] { first.Key.Id.ToShortString(), second.Key.Id.ToShortString() }.Order(),
            joined.Select(p => p.Id).Order());
        Assert.Equal("dns", discovery.FoundBy(first.Key.Id));
        // It is first in the tree: had it been queued it would have been dialed first, and its Status (the same chain
        // in truth) would have been accepted.
        Assert.DoesNotContain(us.Network.Peers, p => p.Id == otherChain.Key.Id.ToShortString());
        Assert.Empty(otherChain.Network.Peers);
    }
}
