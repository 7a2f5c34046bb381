using System.Net;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.Enr;
using EngineSkeleton.Network.Discovery.V4;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.Discovery.V4;

/// <summary>geth's v4wire test packets (EIP-8 vectors), our own packets both ways, and hostile packets.</summary>
public sealed class V4CodecTests
{
    // go-ethereum p2p/discover/v4wire/v4wire_test.go: the key that signed testPackets, and the packets.
    private const string TestKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    private const string PingBasic = "71dbda3a79554728d4f94411e42ee1f8b0d561c10e1e5f5893367948c6a7d70bb87b235fa28a77070271b6c164a2dce8c7e13a5739b53b5e96f2e5acb0e458a02902f5965d55ecbeb2ebb6cabb8b2b232896a36b737666c55265ad0a68412f250001ea04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a355";
    private const string PingWithSeqAndRest = "e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc92ff74788c0b6663aaa3d67d641936511c8f8d6ad8698b820a7cf9e1be7155e9a241f556658c55428ec0563514365799a4be2be5a685a80971ddcfa80cb422cdd0101ec04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a3550102";
    private const string FindNodeWithRest = "c7c44041b9f7c7e41934417ebac9a8e1a4c6298f74553f2fcfdcae6ed6fe53163eb3d2b52e39fe91831b8a927bf4fc222c3902202027e5e9eb812195f95d20061ef5cd31d502e47ecb61183f74a504fe04c51e73df81f25c4d506b26db4517490103f84eb840ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f8443b9a35582999983999999280dc62cc8255c73471e0a61da0c89acdc0e035e260add7fc0c04ad9ebf3919644c91cb247affc82b69bd2ca235c71eab8e49737c937a2c396";
    private const string NeighborsWithRest = "c679fc8fe0b8b12f06577f2e802d34f6fa257e6137a995f6f4cbfc9ee50ed3710faf6e66f932c4c8d81d64343f429651328758b47d3dbc02c4042f0fff6946a50f4a49037a72bb550f3a7872363a83e1b9ee6469856c24eb4ef80b7535bcf99c0004f9015bf90150f84d846321163782115c82115db8403155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32f84984010203040101b840312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069dbf8599020010db83c4d001500000000abcdef12820d05820d05b84038643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aacf8599020010db885a308d313198a2e037073488203e78203e8b8408dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df738443b9a355010203b525a138aa34383fec3d2719a0";
    private const ulong VectorExpiration = 1136239445;

    /// <summary>A clock one second before the vectors expire (2006-01-02 22:04:04 UTC).</summary>
    private static FakeTimeProvider BeforeVectorsExpire() => new(DateTimeOffset.FromUnixTimeSeconds((long)VectorExpiration - 1));

    private static V4Packet DecodeVector(string hex)
    {
        var packet = V4Codec.Decode(Convert.FromHexString(hex), BeforeVectorsExpire());
        using var key = NodeKey.FromHex(TestKey);
        Assert.Equal(key.Id, packet.Sender);
        Assert.Equal(Convert.FromHexString(hex)[..32], packet.Hash.ToArray());
        return packet;
    }

    [Fact]
    public void Geths_basic_ping_decodes_and_encodes_back_to_the_same_data()
    {
        var ping = Assert.IsType<PingMessage>(DecodeVector(PingBasic).Message);

        Assert.Equal(new PingMessage(4, new V4Endpoint(IPAddress.Loopback, 3322, 5544), new V4Endpoint(IPAddress.IPv6Loopback, 2222, 3333), VectorExpiration, null), ping);
        using var key = NodeKey.FromHex(TestKey);
        var encoded = V4Codec.Encode(key, ping, out var hash);
        // The type and data are byte for byte geth's. The signature is not: the vector (2016, EIP-8) was not signed
        // with RFC 6979's deterministic nonce, which we (and geth today) use, so only its validity can be compared.
        Assert.Equal(PingBasic[(2 * 97)..], Convert.ToHexStringLower(encoded)[(2 * 97)..]);
        var again = V4Codec.Decode(encoded, BeforeVectorsExpire());
        Assert.Equal((hash, key.Id, (V4Message)ping), (again.Hash, again.Sender, again.Message));
    }

    [Fact]
    public void Geths_ping_with_an_enr_seq_and_an_extra_element_keeps_the_seq_and_skips_the_rest()
    {
        var ping = Assert.IsType<PingMessage>(DecodeVector(PingWithSeqAndRest).Message);

        Assert.Equal(new PingMessage(4, new V4Endpoint(IPAddress.Loopback, 3322, 5544), new V4Endpoint(IPAddress.IPv6Loopback, 2222, 3333), VectorExpiration, 1), ping);
    }

    [Fact]
    public void Geths_findnode_with_extra_elements_decodes()
    {
        var find = Assert.IsType<FindNodeMessage>(DecodeVector(FindNodeWithRest).Message);

        Assert.Equal(NodeId.Parse("ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f"), find.Target);
        Assert.Equal(VectorExpiration, find.ExpiresAt);
    }

    [Fact]
    public void Geths_neighbors_with_extra_elements_decodes_all_four_nodes()
    {
        var neighbors = Assert.IsType<NeighborsMessage>(DecodeVector(NeighborsWithRest).Message);

        Assert.Equal(VectorExpiration, neighbors.ExpiresAt);
        Assert.Equal(
            [
                new V4Node(new V4Endpoint(IPAddress.Parse("99.33.22.55"), 4444, 4445), NodeId.Parse("3155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32")),
                new V4Node(new V4Endpoint(IPAddress.Parse("1.2.3.4"), 1, 1), NodeId.Parse("312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069db")),
                new V4Node(new V4Endpoint(IPAddress.Parse("2001:db8:3c4d:15::abcd:ef12"), 3333, 3333), NodeId.Parse("38643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aac")),
                new V4Node(new V4Endpoint(IPAddress.Parse("2001:db8:85a3:8d3:1319:8a2e:370:7348"), 999, 1000), NodeId.Parse("8dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df73")),
            ],
            neighbors.Nodes);
    }

    public static TheoryData<string> OwnPacketNames() => [.. OwnPackets().Keys];

    private static Dictionary<string, V4Message> OwnPackets()
    {
        using var key = NodeKey.FromHex(TestKey);
        var local = new LocalEnr(key, 3);
        local.SetIp(IPAddress.Parse("10.0.0.1"));
        local.SetTcp(30303);
        var endpoint = new V4Endpoint(IPAddress.Parse("10.0.0.2"), 30301, 30302);
        var nodes = Enumerable.Range(0, NeighborsMessage.MaxNodes)
            .Select(i => new V4Node(new V4Endpoint(IPAddress.Parse($"2001:db8::{i + 1:x}"), 65535, 65535), key.Id)).ToArray();
        return new()
        {
            ["a ping without a seq"] = new PingMessage(4, endpoint, endpoint with { Address = null }, 2_000_000_000, null),
            ["a ping with a seq"] = new PingMessage(4, endpoint, endpoint, 2_000_000_000, ulong.MaxValue),
            ["a pong"] = new PongMessage(endpoint, Keccak256.Hash("ping"u8), 2_000_000_000, 7),
            ["a findnode"] = new FindNodeMessage(key.Id, 2_000_000_000),
            ["neighbors: twelve IPv6 nodes, the most a packet takes"] = new NeighborsMessage(nodes, 2_000_000_000),
            ["neighbors: none"] = new NeighborsMessage([], 2_000_000_000),
            ["an ENR request"] = new EnrRequestMessage(2_000_000_000),
            ["an ENR response"] = new EnrResponseMessage(Keccak256.Hash("request"u8), local.Record),
        };
    }

    [Theory]
    [MemberData(nameof(OwnPacketNames))]
    public void Our_packets_decode_to_what_was_encoded(string what)
    {
        var message = OwnPackets()[what];
        using var key = NodeKey.Generate();
        var encoded = V4Codec.Encode(key, message, out var hash);

        var packet = V4Codec.Decode(encoded, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_999_999_999)));

        Assert.True(encoded.Length <= V4Codec.MaxPacketSize, what);
        Assert.Equal(hash, packet.Hash);
        Assert.Equal(key.Id, packet.Sender);
        switch (message)
        {
            case NeighborsMessage neighbors:
                Assert.Equal(neighbors.Nodes, Assert.IsType<NeighborsMessage>(packet.Message).Nodes);
                break;
            case EnrResponseMessage response:
                var decoded = Assert.IsType<EnrResponseMessage>(packet.Message);
                Assert.Equal(response.RequestHash, decoded.RequestHash);
                Assert.Equal(response.Record.ToString(), decoded.Record.ToString());
                break;
            default:
                Assert.Equal(message, packet.Message);
                break;
        }
    }

    [Fact]
    public void Thirteen_IPv6_neighbours_are_over_the_packet_limit_and_are_not_encoded()
    {
        using var key = NodeKey.Generate();
        var nodes = Enumerable.Range(0, NeighborsMessage.MaxNodes + 1)
            .Select(i => new V4Node(new V4Endpoint(IPAddress.Parse($"2001:db8::{i + 1:x}"), 65535, 65535), key.Id)).ToArray();

        Assert.Throws<ArgumentException>(() => V4Codec.Encode(key, new NeighborsMessage(nodes, 2_000_000_000), out _));
    }

    [Fact]
    public void A_packet_is_accepted_up_to_its_expiration_second_and_refused_after()
    {
        var packet = Convert.FromHexString(PingBasic);
        V4Codec.Decode(packet, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds((long)VectorExpiration)));

        var error = Assert.Throws<DiscoveryException>(() => V4Codec.Decode(packet, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds((long)VectorExpiration + 1))));
        Assert.Equal(DiscoveryError.Expired, error.Kind);
    }

    [Fact]
    public void Our_expiration_is_twenty_seconds_ahead_of_the_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        Assert.Equal(1_700_000_020UL, V4Codec.ExpirationFrom(clock));
    }

    [Fact]
    public void A_changed_signature_byte_under_a_fixed_hash_names_another_sender_or_none()
    {
        var packet = Convert.FromHexString(PingBasic);
        packet[40] ^= 1;
        Keccak256.Hash(packet.AsSpan(32), packet.AsSpan(0, 32));
        using var key = NodeKey.FromHex(TestKey);

        try
        {
            Assert.NotEqual(key.Id, V4Codec.Decode(packet, BeforeVectorsExpire()).Sender);
        }
        catch (DiscoveryException e)
        {
            Assert.Equal(DiscoveryError.BadSignature, e.Kind);
        }
    }

    public static TheoryData<string, byte[], DiscoveryError> Hostile()
    {
        using var key = NodeKey.FromHex(TestKey);
        var valid = Convert.FromHexString(PingBasic);
        return new()
        {
            { "a packet of 97 bytes (no type)", valid[..97], DiscoveryError.Malformed },
            { "a packet cut inside its data", Rehash(valid[..^1]), DiscoveryError.Malformed },
            { "a packet of 1,281 bytes", new byte[1281], DiscoveryError.TooLarge },
            { "a changed data byte", Flip(valid, valid.Length - 1), DiscoveryError.BadHash },
            { "a changed hash byte", Flip(valid, 0), DiscoveryError.BadHash },
            { "a recovery id of 4", Rehash(Set(valid, 96, 4)), DiscoveryError.BadSignature },
            { "an all-zero signature", Rehash(Zero(valid, 32, 64)), DiscoveryError.BadSignature },
            { "packet type 0x07", Sign(key, 0x07, "c180"), DiscoveryError.Malformed },
            { "an IP address of 5 bytes", Sign(key, V4PacketType.Ping, "d704c985010203040580820102c3808080844b000000"), DiscoveryError.Malformed },
            { "a port of 65,536", Sign(key, V4PacketType.Ping, "d504c78083010000" + "80" + "c3808080844b000000"), DiscoveryError.Malformed },
            { "a findnode target of 63 bytes", Sign(key, V4PacketType.FindNode, "f844b83f" + new string('a', 126) + "844b000000"), DiscoveryError.Malformed },
            { "neighbors whose list claims more than the packet holds", Sign(key, V4PacketType.Neighbors, "c7f9ffff" + "844b000000"), DiscoveryError.Malformed },
            { "bytes after the data list that are not RLP do not save an expired packet", Sign(key, V4PacketType.EnrRequest, "c101ffff"), DiscoveryError.Expired },
            { "an ENR response with a record whose signature is wrong", Sign(key, V4PacketType.EnrResponse, EnrResponseWithBadRecord()), DiscoveryError.BadSignature },
            { "an ENR request that expired in 1970", Sign(key, V4PacketType.EnrRequest, "c101"), DiscoveryError.Expired },
        };
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_packets_are_refused_with_the_reason(string what, byte[] packet, DiscoveryError kind)
    {
        var error = Assert.Throws<DiscoveryException>(() => V4Codec.Decode(packet, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_000_000_000))));
        Assert.True(kind == error.Kind, $"{what}: {error.Kind}: {error.Message}");
    }

    /// <summary>A packet signed and hashed by the rules, around data written by hand.</summary>
    private static byte[] Sign(NodeKey key, byte type, string dataHex)
    {
        byte[] body = [type, .. Convert.FromHexString(dataHex)];
        var packet = new byte[97 + body.Length];
        body.CopyTo(packet.AsSpan(97));
        var digest = Keccak256.Hash(body).ToArray();
        Secp256k1Keys.SignRecoverable(key.PrivateKey, digest, packet.AsSpan(32, 65));
        return Rehash(packet);
    }

    private static byte[] Rehash(byte[] packet)
    {
        var copy = packet.ToArray();
        Keccak256.Hash(copy.AsSpan(32), copy.AsSpan(0, 32));
        return copy;
    }

    private static byte[] Flip(byte[] bytes, int index) => Set(bytes, index, (byte)(bytes[index] ^ 1));

    private static byte[] Set(byte[] bytes, int index, byte value)
    {
        var copy = bytes.ToArray();
        copy[index] = value;
        return copy;
    }

    private static byte[] Zero(byte[] bytes, int start, int length)
    {
        var copy = bytes.ToArray();
        copy.AsSpan(start, length).Clear();
        return copy;
    }

    /// <summary>[hash, record] with EIP-778's example record, its udp port changed after signing.</summary>
    private static string EnrResponseWithBadRecord()
    {
        var record = System.Buffers.Text.Base64Url.DecodeFromChars("-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8");
        record[^1] ^= 1;
        var payload = "a0" + new string('1', 64) + Convert.ToHexStringLower(record);
        return "f8" + (payload.Length / 2).ToString("x2") + payload;
    }
}
