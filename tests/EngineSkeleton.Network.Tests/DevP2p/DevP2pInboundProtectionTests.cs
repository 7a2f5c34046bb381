using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>
/// The listener's protection, over loopback: the cap on handshakes in progress and the per-address throttle (with LAN
/// addresses throttled too, <see cref="DevP2pOptions.ThrottleLan"/>, since loopback is exempt by default as in geth).
/// </summary>
public sealed class DevP2pInboundProtectionTests
{
    private static readonly TimeSpan Hang = RawEthPeer.Hang;

    /// <summary>Long enough for a handshake on loopback many times over; the dial that cannot get a slot waits this long.</summary>
    private static readonly TimeSpan Unanswered = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task With_every_handshake_slot_held_by_a_silent_connection_a_dial_gets_no_answer_until_one_is_freed()
    {
        // The network's clock is fake, so its own handshake timeout never frees the silent connection's slot.
        var time = new FakeTimeProvider();
        await using var server = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { MaxPendingPeers = 1 });
        await server.Network.StartAsync(CancellationToken.None);

        using var silent = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, server.Network.Self.TcpPort).WaitAsync(Hang);

        // Accepted in order: the silent connection holds the only slot, so this handshake is never read.
        using var key = NodeKey.Generate();
        var blocked = await Assert.ThrowsAsync<TimeoutException>(() => HandshakeAsync(server.Network.Self, key, Unanswered));
        Assert.Contains("handshake", blocked.Message, StringComparison.Ordinal);

        // The silent connection goes: its handshake fails at once, its slot is free, the next dial is answered.
        silent.Close();
        await using var peer = await RawEthPeer.ConnectAsync(server.Network.Self, key: key);
        Assert.Equal(server.Key.Id, peer.Connection.RemoteId);
    }

    [Fact]
    public async Task A_second_connection_from_one_address_within_30_s_is_closed_before_its_handshake_and_admitted_after()
    {
        var time = new FakeTimeProvider();
        await using var server = new TestNode(new MemoryEthChain(10), time, new DevP2pOptions { ThrottleLan = true });
        await server.Network.StartAsync(CancellationToken.None);

        await using (var first = await RawEthPeer.ConnectAsync(server.Network.Self))
        {
            Assert.Equal(server.Key.Id, first.Connection.RemoteId);
        }

        using var key = NodeKey.Generate();
        var refused = await Record.ExceptionAsync(() => HandshakeAsync(server.Network.Self, key, Hang));
        Assert.True(refused is EndOfStreamException or IOException, $"the throttled connection should be closed unanswered, got {refused}");

        time.Advance(TimeSpan.FromSeconds(30));
        await using var again = await RawEthPeer.ConnectAsync(server.Network.Self, key: key);
        Assert.Equal(server.Key.Id, again.Connection.RemoteId);
    }

    [Fact]
    public async Task Loopback_is_exempt_by_default_as_in_geth()
    {
        await using var server = new TestNode(new MemoryEthChain(10), new FakeTimeProvider());
        await server.Network.StartAsync(CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            await using var peer = await RawEthPeer.ConnectAsync(server.Network.Self);
            Assert.Equal(server.Key.Id, peer.Connection.RemoteId);
        }
    }

    /// <summary>The RLPx handshake as initiator on a fresh socket, bounded by <paramref name="timeout"/> (real time).</summary>
    private static async Task HandshakeAsync(Enode target, NodeKey key, TimeSpan timeout)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, target.TcpPort).WaitAsync(Hang);
        await using var connection = new RlpxConnection(new NetworkStream(socket, ownsSocket: true), key, new RlpxOptions { HandshakeTimeout = timeout });
        await connection.HandshakeAsInitiatorAsync(target.Id, CancellationToken.None).WaitAsync(Hang);
    }
}
