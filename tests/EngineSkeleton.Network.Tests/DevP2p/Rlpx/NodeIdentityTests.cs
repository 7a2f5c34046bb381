using System.Net;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>Node keys, node ids and enode URLs.</summary>
public sealed class NodeIdentityTests
{
    /// <summary>The public key of private key 1 is the generator G of secp256k1 (SEC 2, §2.4.1).</summary>
    private const string GeneratorId =
        "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

    private const string ValidId = GeneratorId;

    [Fact]
    public void The_node_id_of_private_key_1_is_the_generator_without_its_04_prefix()
    {
        using var key = NodeKey.FromHex("0000000000000000000000000000000000000000000000000000000000000001");

        Assert.Equal(GeneratorId, key.Id.ToString());
        Assert.True(key.Id.IsValidPublicKey);
    }

    [Fact]
    public void A_node_key_saved_and_loaded_again_has_the_same_id()
    {
        using var key = NodeKey.Generate();
        var saved = key.ExportPrivateKey();

        using var loaded = NodeKey.FromHex(Convert.ToHexStringLower(saved));

        Assert.Equal(key.Id, loaded.Id);
    }

    public static TheoryData<string, string> BadKeys => new()
    {
        { "zero is not a private key", new string('0', 64) },
        { "the curve order n is not a private key", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141" },
        { "31 bytes are too few", new string('1', 62) },
        { "not hex", new string('z', 64) },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public void A_bad_node_key_is_refused(string because, string hex)
    {
        var error = Record.Exception(() => NodeKey.FromHex(hex));

        Assert.True(error is ArgumentException or FormatException, because);
    }

    [Fact]
    public void Sixty_four_bytes_off_the_curve_make_a_node_id_that_is_not_a_public_key()
    {
        var id = NodeId.Parse(new string('1', 128));

        Assert.False(id.IsValidPublicKey);
        Assert.True(default(NodeId).IsZero);
    }

    public static TheoryData<string, string, string, int, int, string> GoodUrls => new()
    {
        { "an IPv4 node with one port for TCP and discovery", $"enode://{ValidId}@127.3.58.6:30303", "127.3.58.6", 30303, 30303, $"enode://{ValidId}@127.3.58.6:30303" },
        { "discport sets the UDP port", $"enode://{ValidId}@127.3.58.6:30303?discport=30301", "127.3.58.6", 30303, 30301, $"enode://{ValidId}@127.3.58.6:30303?discport=30301" },
        { "discport equal to the TCP port is not written back", $"enode://{ValidId}@127.0.0.1:1?discport=1", "127.0.0.1", 1, 1, $"enode://{ValidId}@127.0.0.1:1" },
        { "an IPv6 host in brackets, written back in canonical form", $"enode://{ValidId}@[2001:DB8::0:1]:30303", "2001:db8::1", 30303, 30303, $"enode://{ValidId}@[2001:db8::1]:30303" },
        { "a DNS name is kept as it is, not resolved", $"enode://{ValidId}@boot.example.org:30303", "boot.example.org", 30303, 30303, $"enode://{ValidId}@boot.example.org:30303" },
        { "upper-case hex in the id is accepted and written lower case", $"enode://{ValidId.ToUpperInvariant()}@127.0.0.1:0", "127.0.0.1", 0, 0, $"enode://{ValidId}@127.0.0.1:0" },
        { "unknown query parameters are ignored, as geth ignores them", $"enode://{ValidId}@127.0.0.1:30303?foo=bar&discport=5", "127.0.0.1", 30303, 5, $"enode://{ValidId}@127.0.0.1:30303?discport=5" },
    };

    [Theory]
    [MemberData(nameof(GoodUrls))]
    public void A_good_enode_URL_parses_and_formats_back(string because, string url, string host, int tcp, int udp, string formatted)
    {
        var enode = Enode.Parse(url);

        Assert.Equal(ValidId, enode.Id.ToString());
        Assert.Equal(host, enode.Host);
        Assert.Equal(tcp, enode.TcpPort);
        Assert.Equal(udp, enode.UdpPort);
        Assert.Equal(formatted, enode.ToString());
        Assert.Equal(enode, Enode.Parse(enode.ToString()));
        Assert.NotNull(because);
    }

    public static TheoryData<string, string?, string> BadUrls => new()
    {
        { "nothing", "", "empty" },
        { "another scheme", $"http://{ValidId}@127.0.0.1:30303", "must start with 'enode://'" },
        { "the incomplete form has no address to dial", $"enode://{ValidId}", "no '@host:port'" },
        { "a short id", $"enode://{ValidId[..126]}@127.0.0.1:30303", "128 hex digits, found 126" },
        { "an id with a non-hex digit", $"enode://{ValidId[..127]}g@127.0.0.1:30303", "128 hex digits" },
        { "an id that is not on the curve", $"enode://{new string('1', 128)}@127.0.0.1:30303", "not a secp256k1 public key" },
        { "no port", $"enode://{ValidId}@127.0.0.1", "no ':port'" },
        { "a port above 65535", $"enode://{ValidId}@127.0.0.1:65536", "port '65536'" },
        { "a negative port", $"enode://{ValidId}@127.0.0.1:-1", "port '-1'" },
        { "no host", $"enode://{ValidId}@:30303", "no host" },
        { "IPv6 without brackets", $"enode://{ValidId}@2001:db8::1:30303", "in brackets" },
        { "a bracketed host that is not IPv6", $"enode://{ValidId}@[127.0.0.1]:30303", "not an IPv6 address" },
        { "a host with spaces", $"enode://{ValidId}@bad host:30303", "neither an IP address nor a host name" },
        { "a discport that is not a port", $"enode://{ValidId}@127.0.0.1:30303?discport=x", "discport 'x'" },
    };

    [Theory]
    [MemberData(nameof(BadUrls))]
    public void A_malformed_enode_URL_is_refused_saying_what_is_wrong(string because, string? url, string expected)
    {
        Assert.False(Enode.TryParse(url, out _, out var error), because);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        var thrown = Assert.Throws<FormatException>(() => Enode.Parse(url!));
        Assert.Contains(expected, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_enode_from_an_endpoint_uses_its_port_for_both()
    {
        using var key = NodeKey.Generate();

        var enode = new Enode(key.Id, new IPEndPoint(IPAddress.Loopback, 30303));

        Assert.Equal($"enode://{key.Id}@127.0.0.1:30303", enode.ToString());
        Assert.Equal(IPAddress.Loopback, enode.Address);
    }
}
