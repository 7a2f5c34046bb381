using System.Net;

namespace EngineSkeleton.Network.DevP2p;

/// <summary>
/// geth's inbound throttle (p2p/server.go checkInboundConn): an address that connected to us less than
/// <see cref="DevP2pOptions.InboundThrottleTime"/> ago is refused before any handshake work, so one host cannot make us
/// run ECDH and ECIES for it in a loop. As in geth, LAN addresses (loopback, 10/8, 172.16/12, 192.168/16, 0/8,
/// fe80::/10, fc00::/7: netutil.IsLAN) are exempt unless <see cref="DevP2pOptions.ThrottleLan"/> says otherwise, and an
/// admitted attempt restarts the address's window while a refused one does not.
/// </summary>
/// <remarks>Every entry lives the same time, so the queue in arrival order is also the queue in expiry order.</remarks>
internal sealed class InboundThrottle(TimeSpan window, bool throttleLan, TimeProvider time)
{
    private static readonly IPNetwork[] Lan4 =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
    ];

    private static readonly IPNetwork[] Lan6 = [IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fc00::/7")];

    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, long> _until = [];
    private readonly Queue<(IPAddress Address, long Until)> _expiry = new();

    /// <summary>Addresses remembered now (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _until.Count;
            }
        }
    }

    /// <summary>True if a connection from <paramref name="address"/> may go on to the handshake; records it if so.</summary>
    public bool TryAdmit(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var now = time.GetTimestamp();
        lock (_gate)
        {
            Expire(now);
            if ((throttleLan || !IsLan(key)) && _until.ContainsKey(key))
            {
                return false;
            }
            var until = now + (long)(window.TotalSeconds * time.TimestampFrequency);
            _until[key] = until;
            _expiry.Enqueue((key, until));
            return true;
        }
    }

    /// <summary>geth's netutil.IsLAN: loopback, or a private, link-local or "this network" range.</summary>
    public static bool IsLan(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (IPAddress.IsLoopback(key))
        {
            return true;
        }
        var ranges = key.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Lan4 : Lan6;
        foreach (var range in ranges)
        {
            if (range.Contains(key))
            {
                return true;
            }
        }
        return false;
    }

    private void Expire(long now)
    {
        while (_expiry.TryPeek(out var oldest) && oldest.Until <= now)
        {
            _expiry.Dequeue();
            // A later admission of the same address queued a later expiry; only the entry still current is removed.
            if (_until.TryGetValue(oldest.Address, out var current) && current == oldest.Until)
            {
                _until.Remove(oldest.Address);
            }
        }
    }
}
