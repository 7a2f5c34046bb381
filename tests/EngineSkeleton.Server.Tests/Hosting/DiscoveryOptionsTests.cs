using EngineSkeleton.Server.Hosting;

namespace EngineSkeleton.Server.Tests.Hosting;

/// <summary>What discovery is given for each network and flag: the built-in lists only on a built-in network.</summary>
public sealed class DiscoveryOptionsTests
{
    private const string Enode = "enode://d860a01f9722d78051619d1e2351aba3f43f943f6f00718d1b9baa4101932a1f5011f16bb2b1bb35db20d6fe28fa0bf09636d26a87d31de9ec6203eeedb1f666@127.0.0.1:30303";

    [Theory]
    [InlineData("mainnet", 4)]
    [InlineData("sepolia", 5)]
    [InlineData("hoodi", 3)]
    public void A_built_in_network_with_no_flag_starts_from_geths_bootnodes_and_dns_list(string network, int bootnodes)
    {
        var options = new P2POptions().ToDiscoveryOptions(network);

        Assert.True(options.Enabled);
        Assert.Equal(bootnodes, options.Bootnodes.Count);
        // geth's list for the network ("all.<network>." under its discovery domain); only read here, never resolved.
        Assert.Contains($"@all.{network}.", Assert.Single(options.DnsTrees), StringComparison.Ordinal);
        Assert.Null(options.Port);
        Assert.Empty(options.NetRestrict);
    }

    [Fact]
    public void A_custom_genesis_has_no_built_in_bootnodes_or_dns_list()
    {
        var options = new P2POptions().ToDiscoveryOptions(builtInNetwork: null);

        Assert.Empty(options.Bootnodes);
        Assert.Empty(options.DnsTrees);
    }

    [Fact]
    public void Flags_replace_the_built_in_lists_and_nodiscover_turns_discovery_off()
    {
        var p2p = new P2POptions
        {
            Bootnodes = Enode,
            DiscoveryDns = "",
            DiscoveryPort = 30399,
            NetRestrict = "10.0.0.0/8, 192.168.0.0/16",
            NoDiscover = true,
        };

        var options = p2p.ToDiscoveryOptions("mainnet");

        Assert.False(options.Enabled);
        Assert.Equal(Enode, Assert.Single(options.Bootnodes).ToString());
        Assert.Empty(options.DnsTrees);
        Assert.Equal(30399, options.Port);
        Assert.Equal(2, options.NetRestrict.Count);
    }

    [Theory]
    [InlineData("--netrestrict", "10.0.0.0/33", "--netrestrict '10.0.0.0/33' is not a CIDR network")]
    [InlineData("--discovery.dns", "enrtree://notakey@nodes.localhost", "--discovery.dns 'enrtree://notakey@nodes.localhost'")]
    [InlineData("--discovery.port", "70000", "--discovery.port 70000 is not a port")]
    public void A_bad_discovery_flag_stops_startup_with_one_line(string flag, string value, string expected)
    {
        var ex = Assert.Throws<StartupException>(() => NodeHost.Build(["--datadir", Path.Combine(Path.GetTempPath(), "es-unused-" + Guid.NewGuid()), flag, value]));

        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }
}
