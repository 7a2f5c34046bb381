using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.Dialing;
using EngineSkeleton.Network.Discovery.V4;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Network.Tests.Discovery.V4;

/// <summary>Our discv4 service against other instances of itself over 127.0.0.1: bonding, lookups, records, liveness.</summary>
public sealed class V4ServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly List<(V4Service Service, NodeKey Key)> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (service, key) in _nodes)
        {
            await service.DisposeAsync();
            key.Dispose();
        }
    }

    internal V4Service Start(ForkId? forkId = null, params V4Service[] bootnodes)
    {
        var key = NodeKey.Generate();
        var options = new V4ServiceOptions
        {
            ListenAddress = IPAddress.Loopback,
            Port = 0,
            // The loop is not wanted here: the tests call RevalidateOnceAsync themselves.
            RevalidateInterval = TimeSpan.FromHours(1),
            ResponseTimeout = TimeSpan.FromSeconds(1),
        };
        var service = new V4Service(key, options, tcpPort: 30303, forkId is { } id ? () => id : null, TimeProvider.System, NullLogger.Instance);
        _nodes.Add((service, key));
        service.Start([.. bootnodes.Select(EnodeOf)]);
        return service;
    }

    internal Enode EnodeOf(V4Service service) =>
        new(_nodes.Single(n => n.Service == service).Key.Id, "127.0.0.1", service.TcpPort, service.LocalEndPoint.Port);

    internal DiscoveryNode NodeOf(V4Service service) => DiscoveryNode.Of(EnodeOf(service).Id, IPAddress.Loopback, service.LocalEndPoint.Port, service.TcpPort);

    [Fact]
    public async Task A_ping_answered_puts_each_node_in_the_others_table()
    {
        var a = Start();
        var b = Start();

        Assert.True(await a.PingAsync(NodeOf(b), CancellationToken.None).WaitAsync(Bound));

        Assert.Contains(a.TableNodes(), n => n.PublicKey == EnodeOf(b).Id);
        // b pinged a back (it had no endpoint proof of a) and added a when a answered; that runs beside a's ping.
        var candidate = await b.Found.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(EnodeOf(a).Id, candidate.Id);
        Assert.Contains(b.TableNodes(), n => n.PublicKey == EnodeOf(a).Id);
    }

    [Fact]
    public async Task A_ping_to_a_silent_port_fails_and_adds_nothing()
    {
        var a = Start();
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var key = NodeKey.Generate();

        var answered = await a.PingAsync(DiscoveryNode.Of(key.Id, IPAddress.Loopback, ((IPEndPoint)silent.LocalEndPoint!).Port, 1), CancellationToken.None).WaitAsync(Bound);

        Assert.False(answered);
        Assert.Equal(0, a.TableSize);
        Assert.Equal(0, a.PendingReplies);
    }

    [Fact]
    public async Task A_lookup_from_one_bootnode_finds_the_node_only_the_bootnode_knows()
    {
        var c = Start();
        var b = Start();
        Assert.True(await b.PingAsync(NodeOf(c), CancellationToken.None).WaitAsync(Bound));
        var a = Start(bootnodes: b);

        var found = await a.LookupAsync(EnodeOf(a).Id, CancellationToken.None).WaitAsync(Bound);

        Assert.Contains(found, n => n.PublicKey == EnodeOf(b).Id);
        Assert.Contains(found, n => n.PublicKey == EnodeOf(c).Id);
        Assert.Contains(a.TableNodes(), n => n.PublicKey == EnodeOf(c).Id);
        var offered = new List<DialCandidate> { await a.Found.ReadAsync().AsTask().WaitAsync(Bound), await a.Found.ReadAsync().AsTask().WaitAsync(Bound) };
        Assert.Contains(offered, o => o.Id == EnodeOf(b).Id && o.Source == DialSource.Bootnode);
        Assert.Contains(offered, o => o.Id == EnodeOf(c).Id && o.Source == DialSource.Discv4);
    }

    [Fact]
    public async Task A_record_is_asked_for_and_carries_the_eth_fork_id_and_ports()
    {
        var forkId = new ForkId(0xfc64ec04, 1150000);
        var b = Start(forkId);
        var a = Start();
        Assert.True(await a.PingAsync(NodeOf(b), CancellationToken.None).WaitAsync(Bound));

        var record = await a.RequestEnrAsync(NodeOf(b), CancellationToken.None).WaitAsync(Bound);

        Assert.NotNull(record);
        Assert.Equal(EnodeOf(b).Id, record.PublicKey);
        Assert.Equal(forkId, record.EthForkId);
        Assert.Equal(b.LocalEndPoint.Port, record.Udp);
        Assert.Equal(30303, record.Tcp);
        Assert.Equal(IPAddress.Loopback, record.Ip);
        var offered = await a.Found.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(forkId, offered.Record?.EthForkId);
    }

    [Fact]
    public async Task Our_record_gets_a_higher_sequence_number_when_the_fork_id_changes()
    {
        var forkId = new ForkId(1, 2);
        var key = NodeKey.Generate();
        var service = new V4Service(key, new V4ServiceOptions { ListenAddress = IPAddress.Loopback, Port = 0, RevalidateInterval = TimeSpan.FromHours(1) }, 30303, () => forkId, TimeProvider.System, NullLogger.Instance);
        _nodes.Add((service, key));
        service.Start([]);
        var first = service.LocalRecord;

        var same = service.LocalRecord;
        forkId = new ForkId(3, 0);
        var next = service.LocalRecord;

        Assert.Equal(first.Seq, same.Seq);
        Assert.Equal(first.Seq + 1, next.Seq);
        Assert.Equal(new ForkId(3, 0), next.EthForkId);
    }

    [Fact]
    public async Task A_node_that_stops_answering_leaves_the_table_at_its_liveness_check()
    {
        var a = Start();
        var b = Start();
        Assert.True(await a.PingAsync(NodeOf(b), CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(1, a.TableSize);

        await b.DisposeAsync();
        Assert.True(await a.RevalidateOnceAsync(CancellationToken.None).WaitAsync(Bound));

        Assert.Equal(0, a.TableSize);
    }

    [Fact]
    public async Task A_live_node_stays_at_its_liveness_check()
    {
        var a = Start();
        var b = Start();
        Assert.True(await a.PingAsync(NodeOf(b), CancellationToken.None).WaitAsync(Bound));

        Assert.True(await a.RevalidateOnceAsync(CancellationToken.None).WaitAsync(Bound));

        Assert.Equal(1, a.TableSize);
    }

    [Fact]
    public void A_relayed_address_must_be_reachable_by_the_asker()
    {
        Assert.True(V4Service.CanRelay(IPAddress.Loopback, IPAddress.Loopback));
        Assert.True(V4Service.CanRelay(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("192.168.1.1")));
        Assert.True(V4Service.CanRelay(IPAddress.Parse("8.8.8.8"), IPAddress.Parse("1.1.1.1")));
        Assert.False(V4Service.CanRelay(IPAddress.Parse("8.8.8.8"), IPAddress.Loopback));
        Assert.False(V4Service.CanRelay(IPAddress.Parse("8.8.8.8"), IPAddress.Parse("10.0.0.1")));
        Assert.False(V4Service.CanRelay(IPAddress.Loopback, IPAddress.Any));
        Assert.False(V4Service.CanRelay(IPAddress.Loopback, IPAddress.Parse("224.0.0.1")));
    }

    [Fact]
    public void A_node_id_is_keccak_of_the_public_key()
    {
        using var key = NodeKey.Generate();
        Assert.Equal(Keccak256.Hash(key.Id.Bytes), DiscoveryNode.Of(key.Id, IPAddress.Loopback, 1, 1).Id);
    }
}
