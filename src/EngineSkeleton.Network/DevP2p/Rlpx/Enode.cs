using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// A node's address as an enode URL: <c>enode://&lt;128 hex digits&gt;@host:tcp-port?discport=udp-port</c>
/// (devp2p enode.md). The host is an IP literal (IPv6 in brackets) or a DNS name, which is kept, not resolved; the
/// discovery port defaults to the TCP port and is written only when it differs, as geth writes it. The short form
/// without <c>@host:port</c> is refused: a node without an address cannot be dialled.
/// </summary>
public sealed record Enode
{
    private const string Scheme = "enode://";

    public Enode(NodeId id, string host, int tcpPort, int udpPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegative(tcpPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tcpPort, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfNegative(udpPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(udpPort, IPEndPoint.MaxPort);
        Id = id;
        Host = IPAddress.TryParse(host, out var address) ? address.ToString() : host;
        TcpPort = tcpPort;
        UdpPort = udpPort;
    }

    public Enode(NodeId id, IPEndPoint endPoint)
        : this(id, endPoint?.Address.ToString() ?? throw new ArgumentNullException(nameof(endPoint)), endPoint.Port, endPoint.Port)
    {
    }

    public NodeId Id { get; }

    /// <summary>An IP address in its canonical text form, or a DNS name.</summary>
    public string Host { get; }

    public int TcpPort { get; }

    /// <summary>The discovery (UDP) port; the TCP port unless the URL said <c>discport</c>.</summary>
    public int UdpPort { get; }

    /// <summary>The host as an address, or null when it is a DNS name.</summary>
    public IPAddress? Address => IPAddress.TryParse(Host, out var address) ? address : null;

    public static Enode Parse(string url) =>
        TryParse(url, out var enode, out var error) ? enode : throw new FormatException($"invalid enode URL: {error}");

    /// <summary>Parses an enode URL; on failure <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryParse(string? url, [NotNullWhen(true)] out Enode? enode, [NotNullWhen(false)] out string? error)
    {
        enode = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            error = "empty";
            return false;
        }
        if (!url.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = $"must start with '{Scheme}'";
            return false;
        }
        var rest = url.AsSpan(Scheme.Length);
        var at = rest.IndexOf('@');
        if (at < 0)
        {
            error = "no '@host:port' after the node id";
            return false;
        }
        var idText = rest[..at];
        if (idText.Length != NodeId.Size * 2 || !IsHex(idText))
        {
            error = $"the node id must be {NodeId.Size * 2} hex digits, found {idText.Length} characters";
            return false;
        }
        var id = new NodeId(Convert.FromHexString(idText));
        if (!id.IsValidPublicKey)
        {
            error = "the node id is not a secp256k1 public key";
            return false;
        }
        var address = rest[(at + 1)..];
        var question = address.IndexOf('?');
        var query = question < 0 ? [] : address[(question + 1)..];
        var hostPort = question < 0 ? address : address[..question];
        if (!TrySplitHostPort(hostPort, out var host, out var tcpPort, out error))
        {
            return false;
        }
        var udpPort = tcpPort;
        if (!TryReadDiscport(query, ref udpPort, out error))
        {
            return false;
        }
        enode = new Enode(id, host, tcpPort, udpPort);
        return true;
    }

    /// <summary>The URL, with <c>discport</c> only when it differs from the TCP port.</summary>
    public override string ToString()
    {
        var host = Address is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]" : Host;
        var url = $"{Scheme}{Id}@{host}:{TcpPort.ToString(CultureInfo.InvariantCulture)}";
        return UdpPort == TcpPort ? url : $"{url}?discport={UdpPort.ToString(CultureInfo.InvariantCulture)}";
    }

    private static bool TrySplitHostPort(ReadOnlySpan<char> hostPort, out string host, out int port, [NotNullWhen(false)] out string? error)
    {
        host = "";
        port = 0;
        ReadOnlySpan<char> hostText;
        ReadOnlySpan<char> portText;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']');
            if (close < 0 || close + 1 >= hostPort.Length || hostPort[close + 1] != ':')
            {
                error = "an IPv6 host must be '[address]:port'";
                return false;
            }
            hostText = hostPort[1..close];
            portText = hostPort[(close + 2)..];
            if (!IPAddress.TryParse(hostText, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"'{hostText}' is not an IPv6 address";
                return false;
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            if (colon < 0)
            {
                error = "no ':port' after the host";
                return false;
            }
            hostText = hostPort[..colon];
            portText = hostPort[(colon + 1)..];
            if (hostText.IsEmpty)
            {
                error = "no host after '@'";
                return false;
            }
            if (hostText.Contains(':'))
            {
                error = "an IPv6 host must be in brackets";
                return false;
            }
            if (!IPAddress.TryParse(hostText, out _) && Uri.CheckHostName(hostText.ToString()) != UriHostNameType.Dns)
            {
                error = $"'{hostText}' is neither an IP address nor a host name";
                return false;
            }
        }
        if (!TryParsePort(portText, out port))
        {
            error = $"the port '{portText}' is not a number from 0 to 65535";
            return false;
        }
        host = hostText.ToString();
        error = null;
        return true;
    }

    private static bool TryReadDiscport(ReadOnlySpan<char> query, ref int udpPort, [NotNullWhen(false)] out string? error)
    {
        // Other parameters are ignored, as geth ignores them.
        foreach (var range in query.Split('&'))
        {
            var parameter = query[range];
            if (!parameter.StartsWith("discport="))
            {
                continue;
            }
            var value = parameter["discport=".Length..];
            if (!TryParsePort(value, out udpPort))
            {
                error = $"discport '{value}' is not a number from 0 to 65535";
                return false;
            }
        }
        error = null;
        return true;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        // Digits only: int.TryParse would also take a sign and surrounding spaces.
        return !text.IsEmpty && text.Length <= 5 && IsDigits(text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
