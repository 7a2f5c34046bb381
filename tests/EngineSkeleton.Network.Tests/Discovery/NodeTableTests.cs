using System.Net;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.Discovery;

namespace EngineSkeleton.Network.Tests.Discovery;

/// <summary>The Kademlia table driven directly: our id is zero, so a node's log distance is its id's bit length.</summary>
public sealed class NodeTableTests
{
    public static TheoryData<string, string, string, int> Distances() => new()
    {
        { "equal ids are at distance 0", Hex(0), Hex(0), 0 },
        { "ids that differ in the last bit are at distance 1", Hex(0), Hex(1), 1 },
        { "ids that differ in the first bit are at distance 256", Hex(0), "80" + new string('0', 62), 256 },
        { "the highest differing bit decides, not the count of differing bits", "ff" + new string('0', 62), "fe" + new string('f', 62), 249 },
        { "bit 9 from the end is distance 9", Hex(0x100), Hex(0), 9 },
    };

    [Theory]
    [MemberData(nameof(Distances))]
    public void Log_distance_is_the_bit_length_of_the_xor(string what, string a, string b, int distance)
    {
        Assert.True(distance == NodeDistance.Log(Hash256.FromHex("0x" + a), Hash256.FromHex("0x" + b)), what);
        Assert.Equal(distance, NodeDistance.Log(Hash256.FromHex("0x" + b), Hash256.FromHex("0x" + a)));
    }

    [Fact]
    public void A_bucket_takes_sixteen_then_keeps_the_ten_newest_replacements()
    {
        var table = new NodeTable(Hash256.Zero);
        for (var i = 0; i < NodeTable.BucketSize; i++)
        {
            Assert.Equal(TableAddResult.Added, table.Add(Node(200, i, Public(i))));
        }
        for (var i = 16; i < 28; i++)
        {
            Assert.Equal(TableAddResult.AddedAsReplacement, table.Add(Node(200, i, Public(i))));
        }

        Assert.Equal(16, table.BucketAt(200).Count);
        Assert.Equal(Enumerable.Range(18, 10).Reverse().Select(i => Id(200, i)), table.ReplacementsAt(200).Select(node => node.Id));
        Assert.Equal(TableAddResult.AlreadyReplacement, table.Add(Node(200, 27, Public(27))));
        Assert.Equal(TableAddResult.AlreadyPresent, table.Add(Node(200, 3, Public(3))));
    }

    [Fact]
    public void Two_nodes_of_a_slash_24_fit_a_bucket_and_ten_fit_the_table()
    {
        var table = new NodeTable(Hash256.Zero);
        Assert.Equal(TableAddResult.Added, table.Add(Node(256, 0, IPAddress.Parse("203.0.113.1"))));
        Assert.Equal(TableAddResult.Added, table.Add(Node(256, 1, IPAddress.Parse("203.0.113.2"))));
        Assert.Equal(TableAddResult.IpLimit, table.Add(Node(256, 2, IPAddress.Parse("203.0.113.3"))));
        Assert.Equal(TableAddResult.Added, table.Add(Node(256, 3, IPAddress.Parse("203.0.114.3"))));

        // Eight more in four other buckets bring the /24 to ten; the eleventh is refused in a bucket of its own.
        for (var distance = 250; distance < 254; distance++)
        {
            Assert.Equal(TableAddResult.Added, table.Add(Node(distance, 0, IPAddress.Parse("203.0.113.10"))));
            Assert.Equal(TableAddResult.Added, table.Add(Node(distance, 1, IPAddress.Parse("203.0.113.11"))));
        }
        Assert.Equal(TableAddResult.IpLimit, table.Add(Node(240, 0, IPAddress.Parse("203.0.113.12"))));

        // Removing one frees its place in both counts.
        Assert.True(table.Remove(Id(256, 0)));
        Assert.Equal(TableAddResult.Added, table.Add(Node(256, 2, IPAddress.Parse("203.0.113.3"))));
    }

    [Fact]
    public void Replacements_count_towards_the_address_limits_and_free_them_when_dropped()
    {
        var table = new NodeTable(Hash256.Zero);
        for (var i = 0; i < NodeTable.BucketSize; i++)
        {
            table.Add(Node(200, i, Public(i)));
        }
        Assert.Equal(TableAddResult.AddedAsReplacement, table.Add(Node(200, 100, IPAddress.Parse("198.51.100.1"))));
        Assert.Equal(TableAddResult.AddedAsReplacement, table.Add(Node(200, 101, IPAddress.Parse("198.51.100.2"))));
        Assert.Equal(TableAddResult.IpLimit, table.Add(Node(200, 102, IPAddress.Parse("198.51.100.3"))));

        // Ten newer replacements push both out of the list, and their /24 is free again.
        for (var i = 16; i < 26; i++)
        {
            table.Add(Node(200, i, Public(i)));
        }
        Assert.Equal(TableAddResult.AddedAsReplacement, table.Add(Node(200, 102, IPAddress.Parse("198.51.100.3"))));
    }

    [Fact]
    public void LAN_addresses_are_not_limited()
    {
        var table = new NodeTable(Hash256.Zero);
        for (var i = 0; i < NodeTable.BucketSize; i++)
        {
            Assert.Equal(TableAddResult.Added, table.Add(Node(256, i, IPAddress.Parse($"10.0.0.{i + 1}"))));
        }
        Assert.Equal(TableAddResult.Added, table.Add(Node(255, 0, IPAddress.Parse("192.168.1.1"))));
        Assert.Equal(TableAddResult.Added, table.Add(Node(255, 1, IPAddress.Parse("192.168.1.2"))));
        Assert.Equal(TableAddResult.Added, table.Add(Node(255, 2, IPAddress.Loopback)));
        Assert.Equal(TableAddResult.Added, table.Add(Node(255, 3, IPAddress.Parse("fe80::1"))));
    }

    [Fact]
    public void Our_own_id_and_unspecified_addresses_are_refused()
    {
        var table = new NodeTable(Hash256.Zero);
        Assert.Equal(TableAddResult.Refused, table.Add(new DiscoveryNode(Hash256.Zero, default, Public(0), 1, 1)));
        Assert.Equal(TableAddResult.Refused, table.Add(Node(10, 0, IPAddress.Any)));
        Assert.Equal(TableAddResult.Refused, table.Add(Node(10, 0, IPAddress.IPv6Any)));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Seen_moves_a_node_to_the_front_so_the_least_recently_seen_is_last()
    {
        var table = new NodeTable(Hash256.Zero);
        for (var i = 0; i < 3; i++)
        {
            table.Add(Node(100, i, Public(i)));
        }
        Assert.Equal(Id(100, 2), table.LeastRecentlySeen(100)!.Id);

        Assert.True(table.Seen(Id(100, 0)));
        Assert.False(table.Seen(Id(100, 9)));

        Assert.Equal([Id(100, 0), Id(100, 1), Id(100, 2)], table.BucketAt(100).Select(node => node.Id));
        Assert.Equal(Id(100, 2), table.LeastRecentlySeen(100)!.Id);
    }

    [Fact]
    public void A_stale_node_gives_its_place_to_the_newest_replacement_or_just_leaves()
    {
        var table = new NodeTable(Hash256.Zero);
        for (var i = 0; i < 18; i++)
        {
            table.Add(Node(150, i, Public(i)));
        }

        Assert.Equal(Id(150, 17), table.Stale(Id(150, 4))!.Id);
        Assert.Equal(Id(150, 16), table.Stale(Id(150, 5))!.Id);
        Assert.Null(table.Stale(Id(150, 6)));

        Assert.Equal(15, table.BucketAt(150).Count);
        Assert.Empty(table.ReplacementsAt(150));
        Assert.False(table.Contains(Id(150, 4)));
        Assert.True(table.Contains(Id(150, 17)));
    }

    [Fact]
    public void A_known_node_takes_a_newer_record_only_if_its_address_fits()
    {
        var table = new NodeTable(Hash256.Zero);
        table.Add(Node(256, 0, IPAddress.Parse("203.0.113.1")));
        table.Add(Node(256, 1, IPAddress.Parse("203.0.113.2")));
        table.Add(Node(256, 2, IPAddress.Parse("198.51.100.1")));

        table.Add(Node(256, 2, IPAddress.Parse("203.0.113.3")) with { Seq = 5 });
        Assert.Equal(IPAddress.Parse("198.51.100.1"), table.Find(Id(256, 2))!.Address);

        table.Add(Node(256, 2, IPAddress.Parse("192.0.2.1")) with { Seq = 5 });
        Assert.Equal(IPAddress.Parse("192.0.2.1"), table.Find(Id(256, 2))!.Address);

        table.Add(Node(256, 2, IPAddress.Parse("192.0.2.2")) with { Seq = 5 });
        Assert.Equal(IPAddress.Parse("192.0.2.1"), table.Find(Id(256, 2))!.Address);

        // The old /24 was released: a third node of 198.51.100.0/24 now fits beside the first.
        Assert.Equal(TableAddResult.Added, table.Add(Node(255, 0, IPAddress.Parse("198.51.100.2"))));
    }

    [Fact]
    public void Closest_returns_the_nearest_by_xor_in_order()
    {
        var table = new NodeTable(Hash256.Zero);
        var ids = new List<Hash256>();
        for (var distance = 240; distance <= 256; distance++)
        {
            for (var i = 0; i < 5; i++)
            {
                var id = Id(distance, i * 7919 % 997);
                if (table.Add(new DiscoveryNode(id, default, IPAddress.Parse($"10.{distance - 200}.{i}.1"), 30303, 30303)) == TableAddResult.Added)
                {
                    ids.Add(id);
                }
            }
        }
        var target = Hash256.FromHex("0xc3" + new string('5', 62));

        var closest = table.Closest(target, 16);

        var expected = ids.OrderBy(id => Xor(id, target), StringComparer.Ordinal).Take(16);
        Assert.Equal(expected, closest.Select(node => node.Id));
        Assert.Equal(ids.Count, table.Closest(target, 1000).Count);
        Assert.Empty(table.Closest(target, 0));
    }

    private static DiscoveryNode Node(int distance, int variant, IPAddress address) =>
        new(Id(distance, variant), default, address, 30303, 30303);

    /// <summary>An id at <paramref name="distance"/> from zero: its top bit at that position, the variant below it.</summary>
    private static Hash256 Id(int distance, int variant)
    {
        var bytes = new byte[32];
        var bit = distance - 1;
        bytes[31 - bit / 8] |= (byte)(1 << (bit % 8));
        // The variant goes into the lowest bytes, kept below the top bit by the callers' distances (>= 100).
        bytes[31] ^= (byte)variant;
        bytes[30] ^= (byte)(variant >> 8);
        return new Hash256(bytes);
    }

    /// <summary>Public addresses in distinct /24s.</summary>
    private static IPAddress Public(int i) => IPAddress.Parse($"100.{64 + i / 256}.{i % 256}.1");

    private static string Hex(int value) => value.ToString("x64");

    private static string Xor(Hash256 a, Hash256 b) =>
        Convert.ToHexString(a.Bytes.ToArray().Zip(b.Bytes.ToArray(), (x, y) => (byte)(x ^ y)).ToArray());

}
