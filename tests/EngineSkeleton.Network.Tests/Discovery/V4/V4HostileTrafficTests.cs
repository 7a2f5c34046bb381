using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.V4;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Network.Tests.Discovery.V4;

/// <summary>
/// 100,000 hostile datagrams at the discovery port over 127.0.0.1: random bytes, oversized packets, packets whose
/// hash or signature is wrong, expired Pings, unsolicited Pongs and Neighbors (the largest that fit), FindNode and
/// ENRRequest from nodes that never proved their endpoint, and Pings from 300 keys replayed over and over from a
/// socket that never answers. Afterwards the service still bonds with a real node, its table holds only that node,
/// and what it keeps (replies awaited, endpoint proofs) is within its bounds.
/// </summary>
public sealed class V4HostileTrafficTests
{
    private const int Datagrams = 100_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_flood_of_hostile_packets_is_dropped_and_leaves_only_proven_nodes()
    {
        var options = new V4ServiceOptions
        {
            ListenAddress = IPAddress.Loopback,
            Port = 0,
            RevalidateInterval = TimeSpan.FromHours(1),
            ResponseTimeout = TimeSpan.FromSeconds(1),
            MaxPendingReplies = 64,
            MaxBonds = 100,
            MaxInboundBonds = 8,
        };
        using var keyA = NodeKey.Generate();
        using var keyB = NodeKey.Generate();
        await using var a = new V4Service(keyA, options, 30303, null, TimeProvider.System, NullLogger.Instance);
        await using var b = new V4Service(keyB, options with { MaxPendingReplies = 512, MaxBonds = 10_000 }, 30304, null, TimeProvider.System, NullLogger.Instance);
        a.Start([]);
        b.Start([]);
        var target = new IPEndPoint(IPAddress.Loopback, a.LocalEndPoint.Port);
        var packets = HostilePackets(target);

        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        attacker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        for (var i = 0; i < Datagrams; i++)
        {
            await attacker.SendToAsync(packets[i % packets.Count], SocketFlags.None, target).WaitAsync(Bound);
        }
        // The kernel drops what overflows the socket's buffer, ours as well as the flood's, and a's backlog may outlast
        // one reply timeout: b tries as a real node would, a bounded number of times. Packets are handled in order, so
        // once b's Ping is answered what was delivered of the flood has been handled.
        var bonded = false;
        for (var attempt = 0; attempt < 30 && !bonded; attempt++)
        {
            bonded = await b.PingAsync(DiscoveryNode.Of(keyA.Id, IPAddress.Loopback, target.Port, 30303), CancellationToken.None).WaitAsync(Bound);
        }

        Assert.True(bonded);
        Assert.True(await a.PingAsync(DiscoveryNode.Of(keyB.Id, IPAddress.Loopback, b.LocalEndPoint.Port, 30304), CancellationToken.None).WaitAsync(Bound));
        var table = a.TableNodes();
        Assert.Equal([keyB.Id], table.Select(n => n.PublicKey));
        var counters = a.Counters;
        Assert.True(counters.Refused > 0, "malformed, oversized, badly signed and expired packets are refused");
        Assert.True(counters.Unsolicited > 0, "Pongs and Neighbors nobody asked for are dropped");
        Assert.True(counters.Unbonded > 0, "FindNode and ENRRequest from unproven nodes are not answered");
        Assert.InRange(a.PendingReplies, 0, options.MaxPendingReplies);
        Assert.InRange(a.BondsRemembered, 0, 2 * options.MaxBonds);
    }

    private static List<byte[]> HostilePackets(IPEndPoint target)
    {
        var packets = new List<byte[]>();
        var random = new Random(12345);
        var now = DateTimeOffset.UtcNow;
        var fresh = (ulong)(now + TimeSpan.FromHours(1)).ToUnixTimeSeconds();
        var expired = (ulong)(now - TimeSpan.FromMinutes(1)).ToUnixTimeSeconds();
        var to = new V4Endpoint(target.Address, target.Port, target.Port);
        var from = new V4Endpoint(IPAddress.Loopback, 1, 1);

        for (var i = 0; i < 50; i++)
        {
            var junk = new byte[random.Next(0, 1300)];
            random.NextBytes(junk);
            packets.Add(junk);
        }
        var oversized = new byte[1500];
        random.NextBytes(oversized);
        packets.Add(oversized);

        for (var k = 0; k < 300; k++)
        {
            using var key = NodeKey.Generate();
            packets.Add(V4Codec.Encode(key, new PingMessage(4, from, to, fresh, null), out _));
            packets.Add(V4Codec.Encode(key, new PingMessage(4, from, to, expired, null), out _));
            if (k % 10 == 0)
            {
                packets.Add(V4Codec.Encode(key, new PongMessage(to, new Hash256(RandomBytes(random, 32)), fresh, 1), out _));
                packets.Add(V4Codec.Encode(key, new FindNodeMessage(key.Id, fresh), out _));
                packets.Add(V4Codec.Encode(key, new EnrRequestMessage(fresh), out _));
                var nodes = Enumerable.Range(0, 14).Select(_ => new V4Node(new V4Endpoint(IPAddress.Loopback, 30303, 30303), NodeKey.Generate().Id)).ToList();
                packets.Add(V4Codec.Encode(key, new NeighborsMessage(nodes, fresh), out _));
                var signed = V4Codec.Encode(key, new PingMessage(4, from, to, fresh, null), out _);
                signed[40] ^= 0xff; // the hash no longer matches
                packets.Add(signed);
                var resigned = (byte[])signed.Clone();
                System.Security.Cryptography.SHA256.HashData(resigned.AsSpan(32), resigned.AsSpan(0, 32));
                packets.Add(resigned);
                var badSignature = V4Codec.Encode(key, new PingMessage(4, from, to, fresh, null), out _);
                badSignature[64] ^= 0x55; // the signature no longer recovers the sender, and the hash no longer matches
                EngineSkeleton.Core.Crypto.Keccak256.Hash(badSignature.AsSpan(32), badSignature.AsSpan(0, 32));
                packets.Add(badSignature);
            }
        }
        // Interleaved, so that each kind keeps arriving through the whole flood.
        return [.. packets.OrderBy(_ => random.Next())];
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
