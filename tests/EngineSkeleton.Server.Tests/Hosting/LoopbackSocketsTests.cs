using System.Globalization;
using System.Net;
using EngineSkeleton.Server.Tests.Support;

namespace EngineSkeleton.Server.Tests.Hosting;

/// <summary>
/// Tests never make the node talk beyond loopback: a node started as the suite's helpers start it (and one with
/// discovery on, on a custom genesis, which has no built-in bootnodes or DNS lists) holds no socket whose peer is
/// outside 127.0.0.0/8 or ::1. Read from Linux's socket tables for this process' own sockets.
/// </summary>
public sealed class LoopbackSocketsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("--nodiscover")]
    [InlineData("--nodiscover=false")]
    public async Task No_socket_of_the_node_has_a_peer_beyond_loopback(string discovery)
    {
        await using var node = await TestNode.StartAsync(discovery).WaitAsync(Bound);
        // Some traffic on each listener: a call on the public port, a devp2p connection attempt, a UDP datagram.
        await node.Public("admin_nodeInfo").WaitAsync(Bound);
        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, node.Host.DevP2p.Self.TcpPort).WaitAsync(Bound);
        }

        var sockets = OwnSockets();

        Assert.Contains(sockets, s => s.Local.Port == node.Host.DevP2p.Self.TcpPort && s.Protocol == "tcp");
        if (discovery == "--nodiscover=false")
        {
            Assert.Contains(sockets, s => s.Local.Port == node.Host.DevP2p.Self.TcpPort && s.Protocol == "udp");
        }
        else
        {
            Assert.DoesNotContain(sockets, s => s.Protocol == "udp" && s.Local.Port == node.Host.DevP2p.Self.TcpPort);
        }
        var outside = sockets.Where(s => !IsLoopbackOrNone(s.Remote.Address)).ToList();
        Assert.True(outside.Count == 0, "sockets with a peer beyond loopback: " + string.Join(", ", outside));
    }

    private static bool IsLoopbackOrNone(IPAddress address) =>
        IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
        || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    /// <summary>The sockets this process holds: their inodes from /proc/self/fd, their endpoints from /proc/self/net.</summary>
    private static List<SocketRow> OwnSockets()
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }
        var rows = new List<SocketRow>();
        foreach (var table in new[] { "tcp", "tcp6", "udp", "udp6" })
        {
            var path = $"/proc/self/net/{table}";
            if (!File.Exists(path))
            {
                continue;
            }
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length > 9 && inodes.Contains(columns[9]))
                {
                    rows.Add(new SocketRow(table.TrimEnd('6'), Endpoint(columns[1]), Endpoint(columns[2])));
                }
            }
        }
        return rows;
    }

    /// <summary>"0100007F:1F90": the address as the kernel stores it (32-bit words in host order), the port in hex.</summary>
    private static IPEndPoint Endpoint(string text)
    {
        var (hex, port) = (text[..text.IndexOf(':', StringComparison.Ordinal)], text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        var bytes = Convert.FromHexString(hex);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }
        return new IPEndPoint(new IPAddress(bytes), int.Parse(port, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }

    private sealed record SocketRow(string Protocol, IPEndPoint Local, IPEndPoint Remote);
}
