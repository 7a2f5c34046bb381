using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;
using NBitcoin.Secp256k1;
using Xunit.Abstractions;

namespace EngineSkeleton.Server.Tests.Hosting;

/// <summary>
/// The real node, discovery on (a custom genesis: no built-in bootnodes or DNS lists, everything on 127.0.0.1), takes
/// 100,000 hostile datagrams at its discovery port while it syncs the execution-apis chain from a JSON-RPC peer:
/// the sync finishes VALID, the discv4 table holds no node (none of the senders proved its endpoint), and the managed
/// heap is no more than 64 MB larger afterwards. The packets are built here, by discv4.md, not with the node's codec.
/// </summary>
public sealed class DiscoveryFloodTests(ITestOutputHelper output)
{
    private const int Datagrams = 100_000;
    private const long HeapGrowthLimit = 64L * 1024 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_flood_at_the_discovery_port_during_a_sync_leaves_the_sync_VALID_the_table_empty_and_the_heap_flat()
    {
        await using var source = await LoopbackRpcNode.StartAsync(FakeRpcNode.ExecutionApis);
        await using var node = await TestNode.StartAsync("--nodiscover=false", "--sync.rpc", source.Url.ToString());
        var port = (await node.Public("admin_nodeInfo").WaitAsync(Bound)).Result().GetProperty("ports").GetProperty("discovery").GetInt32();
        var target = new IPEndPoint(IPAddress.Loopback, port);
        var packets = HostilePackets(target);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var head = ExecutionApisChain.At(54).Header;
        var filled = node.Backfilled(54);

        var flood = Task.Run(() => FloodAsync(target, packets));
        var first = await node.ForkchoiceStartingSync(head.Hash).WaitAsync(Bound);
        await filled.WaitAsync(Bound);
        await flood.WaitAsync(Bound);
        var last = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head.Hash), null).WaitAsync(Bound);
        var info = (await node.Public("admin_nodeInfo").WaitAsync(Bound)).Result();
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"heap before {heapBefore / 1024} KiB, after {heapAfter / 1024} KiB");

        Assert.Equal("SYNCING", first.FcuStatus());
        Assert.Equal("VALID", last.FcuStatus());
        Assert.Equal(0, info.GetProperty("discovery").GetProperty("tableSize").GetInt32());
        Assert.True(heapAfter - heapBefore < HeapGrowthLimit, $"the heap grew {(heapAfter - heapBefore) / 1024} KiB");
    }

    private static async Task FloodAsync(IPEndPoint target, IReadOnlyList<byte[]> packets)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        for (var i = 0; i < Datagrams; i++)
        {
            await socket.SendToAsync(packets[i % packets.Count], SocketFlags.None, target);
        }
    }

    /// <summary>Junk, oversized datagrams, expired and replayed Pings, unsolicited Pongs and Neighbors, FindNode from strangers.</summary>
    private static List<byte[]> HostilePackets(IPEndPoint target)
    {
        var random = new Random(4242);
        var packets = new List<byte[]>();
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        object[] to = [target.Address.GetAddressBytes(), (ulong)target.Port, (ulong)target.Port];
        object[] from = [IPAddress.Loopback.GetAddressBytes(), 1UL, 1UL];
        for (var i = 0; i < 40; i++)
        {
            var junk = new byte[random.Next(0, 1400)];
            random.NextBytes(junk);
            packets.Add(junk);
        }
        packets.Add(new byte[1500]);
        for (var k = 0; k < 200; k++)
        {
            using var key = NodeKey.Generate();
            var secret = key.ExportPrivateKey();
            packets.Add(Packet(secret, 0x01, [4UL, from, to, now + 3600]));
            packets.Add(Packet(secret, 0x01, [4UL, from, to, now - 60]));
            packets.Add(Packet(secret, 0x02, [to, RandomBytes(random, 32), now + 3600]));
            packets.Add(Packet(secret, 0x03, [key.Id.ToArray(), now + 3600]));
            packets.Add(Packet(secret, 0x04, [Enumerable.Range(0, 12).Select(_ => (object)new object[] { IPAddress.Loopback.GetAddressBytes(), 30303UL, 30303UL, key.Id.ToArray() }).ToArray(), now + 3600]));
            packets.Add(Packet(secret, 0x05, [now + 3600]));
        }
        return [.. packets.OrderBy(_ => random.Next())];
    }

    /// <summary>discv4.md: hash || signature || type || data, the signature over keccak256(type || data), the hash over the rest.</summary>
    private static byte[] Packet(byte[] secret, byte type, object[] data)
    {
        byte[] body = [type, .. Rlp(data)];
        Assert.True(ECPrivKey.Create(secret).TrySignRecoverable(Keccak256.Hash(body).ToArray(), out var signature));
        var packet = new byte[32 + 65 + body.Length];
        signature!.WriteToSpanCompact(packet.AsSpan(32, 64), out var recoveryId);
        packet[96] = (byte)recoveryId;
        body.CopyTo(packet, 97);
        Keccak256.Hash(packet.AsSpan(32)).ToArray().CopyTo(packet, 0);
        return packet;
    }

    private static byte[] Rlp(object item)
    {
        switch (item)
        {
            case byte[] bytes:
                return bytes.Length == 1 && bytes[0] < 0x80 ? bytes : [.. Header(0x80, bytes.Length), .. bytes];
            case ulong number:
                var big = BitConverter.GetBytes(number);
                Array.Reverse(big);
                return Rlp(big.SkipWhile(b => b == 0).ToArray());
            case object[] list:
                var payload = list.SelectMany(Rlp).ToArray();
                return [.. Header(0xc0, payload.Length), .. payload];
            default:
                throw new ArgumentException($"cannot RLP-encode {item.GetType()}", nameof(item));
        }
    }

    private static byte[] Header(int offset, int length)
    {
        if (length < 56)
        {
            return [(byte)(offset + length)];
        }
        var size = BitConverter.GetBytes(length).Reverse().SkipWhile(b => b == 0).ToArray();
        return [(byte)(offset + 55 + size.Length), .. size];
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
