using System.Net;
using EngineSkeleton.Network.DevP2p;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>geth's inbound throttle, on addresses as values and a fake clock: nothing here opens a socket.</summary>
public sealed class InboundThrottleTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("loopback v4 is a LAN address", "127.0.0.1", true)]
    [InlineData("all of 127/8 is loopback", "127.1.2.3", true)]
    [InlineData("loopback v6", "::1", true)]
    [InlineData("10/8 is private", "10.20.30.40", true)]
    [InlineData("172.16/12 is private", "172.31.255.254", true)]
    [InlineData("172.32 is past 172.16/12", "172.32.0.1", false)]
    [InlineData("192.168/16 is private", "192.168.1.1", true)]
    [InlineData("0/8 is 'this network'", "0.1.2.3", true)]
    [InlineData("a v4 address mapped into v6 is judged as v4", "::ffff:10.0.0.1", true)]
    [InlineData("a documentation v4 address is public", "203.0.113.7", false)]
    [InlineData("fe80::/10 is link-local", "fe80::1", true)]
    [InlineData("fc00::/7 is unique-local", "fd12:3456::1", true)]
    [InlineData("a documentation v6 address is public", "2001:db8::1", false)]
    public void LAN_is_geths_netutil_IsLAN(string why, string address, bool lan)
    {
        Assert.True(InboundThrottle.IsLan(IPAddress.Parse(address)) == lan, why);
    }

    [Fact]
    public void An_address_is_refused_within_the_window_and_admitted_after_it()
    {
        var time = new FakeTimeProvider();
        var throttle = new InboundThrottle(Window, throttleLan: true, time);
        var host = IPAddress.Parse("127.0.0.7");

        Assert.True(throttle.TryAdmit(host));
        time.Advance(Window - TimeSpan.FromSeconds(1));
        Assert.False(throttle.TryAdmit(host));
        Assert.True(throttle.TryAdmit(IPAddress.Parse("127.0.0.8")), "another address is not held back by the first");

        // The refused attempt did not restart the window (geth adds only admitted attempts): one second later it is over.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryAdmit(host));
        Assert.False(throttle.TryAdmit(host));
    }

    [Fact]
    public void A_v4_address_and_its_v6_mapped_form_are_one_address()
    {
        var throttle = new InboundThrottle(Window, throttleLan: true, new FakeTimeProvider());
        Assert.True(throttle.TryAdmit(IPAddress.Parse("127.0.0.7")));
        Assert.False(throttle.TryAdmit(IPAddress.Parse("::ffff:127.0.0.7")));
    }

    [Fact]
    public void LAN_addresses_are_exempt_unless_asked_otherwise()
    {
        var time = new FakeTimeProvider();
        var exempt = new InboundThrottle(Window, throttleLan: false, time);
        var strict = new InboundThrottle(Window, throttleLan: true, time);

        Assert.True(exempt.TryAdmit(IPAddress.Loopback));
        Assert.True(exempt.TryAdmit(IPAddress.Loopback));

        Assert.True(strict.TryAdmit(IPAddress.Loopback));
        Assert.False(strict.TryAdmit(IPAddress.Loopback));
    }

    [Fact]
    public void Expired_addresses_are_forgotten_so_the_table_stays_as_small_as_the_last_window()
    {
        var time = new FakeTimeProvider();
        var throttle = new InboundThrottle(Window, throttleLan: true, time);
        for (var i = 1; i <= 100; i++)
        {
            Assert.True(throttle.TryAdmit(IPAddress.Parse($"127.0.1.{i}")));
        }
        Assert.Equal(100, throttle.Count);

        time.Advance(Window);
        Assert.True(throttle.TryAdmit(IPAddress.Parse("127.0.2.1")));
        Assert.Equal(1, throttle.Count);
    }
}
