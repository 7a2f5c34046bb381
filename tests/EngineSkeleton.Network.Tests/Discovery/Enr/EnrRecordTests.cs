using System.Buffers.Text;
using System.Net;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.Enr;

namespace EngineSkeleton.Network.Tests.Discovery.Enr;

/// <summary>EIP-778's example record, our own records, and what a hostile peer can put in one.</summary>
public sealed class EnrRecordTests
{
    // EIP-778, Test Vectors.
    private const string Example = "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
    private const string ExampleKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    private const string ExampleId = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

    [Fact]
    public void The_EIP_778_example_decodes_verifies_and_has_its_fields()
    {
        var record = EnrRecord.Parse(Example);

        Assert.Equal(1UL, record.Seq);
        Assert.Equal(ExampleId, Convert.ToHexStringLower(record.Id.Bytes));
        Assert.Equal(IPAddress.Loopback, record.Ip);
        Assert.Equal(30303, record.Udp);
        Assert.Null(record.Tcp);
        Assert.Null(record.Ip6);
        Assert.Equal("03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138", Convert.ToHexStringLower(record.Secp256k1));
        Assert.Equal(["id", "ip", "secp256k1", "udp"], record.Keys);
        using var key = NodeKey.FromHex(ExampleKey);
        Assert.Equal(key.Id, record.PublicKey);
        Assert.Equal(Example, record.ToString());
    }

    [Fact]
    public void Our_record_from_the_example_key_is_the_example_byte_for_byte()
    {
        using var key = NodeKey.FromHex(ExampleKey);
        var local = new LocalEnr(key, seq: 1);
        local.SetIp(IPAddress.Loopback);
        local.SetUdp(30303);

        Assert.Equal(Example, local.Record.ToString());
    }

    [Fact]
    public void The_sequence_number_goes_up_once_per_change_and_not_without_one()
    {
        using var key = NodeKey.Generate();
        var local = new LocalEnr(key, seq: 7);
        local.SetTcp(30303);
        var first = local.Record;
        Assert.Equal(7UL, first.Seq);
        Assert.Same(first, local.Record);

        local.SetTcp(30303);
        Assert.Same(first, local.Record);

        local.SetTcp(30304);
        local.SetUdp(30305);
        var second = local.Record;
        Assert.Equal(8UL, second.Seq);
        Assert.Equal(30304, second.Tcp);
        Assert.Equal(30305, second.Udp);
        Assert.Equal(second.ToString(), EnrRecord.Parse(second.ToString()).ToString());
    }

    [Fact]
    public void The_eth_entry_round_trips_with_the_fork_id()
    {
        using var key = NodeKey.Generate();
        var local = new LocalEnr(key, seq: 1);
        var forkId = new ForkId(0xdce96c2d, 0);
        local.SetEth(forkId);
        local.SetIp(IPAddress.Parse("2001:db8::1"));
        local.SetTcp6(30303);

        var record = EnrRecord.Decode(local.Record.Encoded);

        Assert.Equal(forkId, record.EthForkId);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), record.Ip6);
        Assert.Equal(30303, record.Tcp6);
        // [[0xdce96c2d, 0]]: a list holding the fork id list, with nothing else (devp2p eth.md).
        Assert.Equal("c7c684dce96c2d80", Convert.ToHexStringLower(record.RawValue("eth")!));
    }

    public static TheoryData<string, string, DiscoveryError> Hostile() => new()
    {
        { "a record cut short by one byte", Text(Bytes(Example)[..^1]), DiscoveryError.Malformed },
        { "a signature changed in one bit", Text(Flip(Bytes(Example), 10)), DiscoveryError.BadSignature },
        { "the udp port changed (content no longer signed)", Text(Flip(Bytes(Example), Bytes(Example).Length - 1)), DiscoveryError.BadSignature },
        { "a record of 301 bytes", Text(Oversized()), DiscoveryError.TooLarge },
        { "text longer than 300 bytes take", "enr:" + new string('A', 404), DiscoveryError.TooLarge },
        { "keys out of order (ip before id)", Text(Reordered()), DiscoveryError.UnsortedKeys },
        { "a key without a value", Text(ToBytes(List(Str(new string('a', 128)), "01", Str("6964")))), DiscoveryError.Malformed },
        { "a list for a key", Text(ToBytes(List(Str(new string('a', 128)), "01", "c0", "80"))), DiscoveryError.Malformed },
        { "no identity scheme", Text(ToBytes(List(Str(new string('a', 128)), "01"))), DiscoveryError.BadSignature },
        { "padding in the text", Example + "=", DiscoveryError.Malformed },
        { "standard base64 instead of base64url", Example.Replace('-', '+'), DiscoveryError.Malformed },
        { "no enr: prefix", Example[4..], DiscoveryError.Malformed },
        { "trailing bytes after the record", Text([.. Bytes(Example), 0x80]), DiscoveryError.Malformed },
        { "a list claiming four gigabytes", Text([0xfb, 0xff, 0xff, 0xff, 0xff, 0xc0]), DiscoveryError.Malformed },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_records_are_refused_with_the_reason(string what, string text, DiscoveryError kind)
    {
        var error = Assert.Throws<DiscoveryException>(() => EnrRecord.Parse(text));
        Assert.True(kind == error.Kind, $"{what}: {error.Kind}: {error.Message}");
    }

    [Fact]
    public void A_record_of_301_bytes_is_refused_by_its_size_and_one_of_300_is_not()
    {
        var oversized = Oversized();
        Assert.Equal(301, oversized.Length);
        Assert.Equal(DiscoveryError.TooLarge, Assert.Throws<DiscoveryException>(() => EnrRecord.Decode(oversized)).Kind);

        // The same record shrunk by one filler byte is judged on its signature, not its size.
        byte[] fits = [0xf9, 0x01, 0x29, .. oversized[3..^1]];
        fits[3 + 66 + 1 + 19 + 1] = (byte)(fits[3 + 66 + 1 + 19 + 1] - 1);
        Assert.Equal(300, fits.Length);
        Assert.NotEqual(DiscoveryError.TooLarge, Assert.Throws<DiscoveryException>(() => EnrRecord.Decode(fits)).Kind);
    }

    private static byte[] Bytes(string text) => Base64Url.DecodeFromChars(text.AsSpan(4));

    private static string Text(byte[] bytes) => "enr:" + Base64Url.EncodeToString(bytes);

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = bytes.ToArray();
        copy[index] ^= 1;
        return copy;
    }

    /// <summary>The example with a filler entry "z" of 301 − 134 bytes: over the limit, whatever its signature.</summary>
    private static byte[] Oversized()
    {
        using var key = NodeKey.FromHex(ExampleKey);
        var local = new LocalEnr(key, 1);
        local.Set("z", Convert.FromHexString("b8" + "a0" + new string('0', 2 * 0xa0)));
        var fits = local.Record.Encoded.ToArray();
        // Grow the filler (and the outer list's length) until the record is 301 bytes long.
        var extra = 301 - fits.Length;
        var body = Convert.ToHexString(fits[3..]);
        var filler = "b8a0" + new string('0', 2 * 0xa0);
        body = body.Replace(filler, "b8" + (0xa0 + extra).ToString("x2") + new string('0', 2 * (0xa0 + extra)), StringComparison.OrdinalIgnoreCase);
        var payload = Convert.FromHexString(body);
        return [0xf9, (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];
    }

    /// <summary>The example's pairs with "ip" moved before "id", signature kept.</summary>
    private static byte[] Reordered() =>
        Convert.FromHexString(List(
            Str("7098ad865b00a582051940cb9cf36836572411a47278783077011599ed5cd16b76f2635f4e234738f30813a89eb9137e3e3df5266e3a1f11df72ecf1145ccb9c"),
            "01", Str("6970"), Str("7f000001"), Str("6964"), Str("7634"),
            Str("736563703235366b31"), Str("03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138"),
            Str("756470"), Str("765f")));

    private static string Str(string hex)
    {
        var length = hex.Length / 2;
        return length == 1 && Convert.FromHexString(hex)[0] < 0x80 ? hex
            : length < 56 ? (0x80 + length).ToString("x2") + hex
            : "b8" + length.ToString("x2") + hex;
    }

    private static string List(params string[] items)
    {
        var payload = string.Concat(items);
        var length = payload.Length / 2;
        return length < 56 ? (0xc0 + length).ToString("x2") + payload : "f8" + length.ToString("x2") + payload;
    }

    private static byte[] ToBytes(string hex) => Convert.FromHexString(hex);
}
