using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// An @ethereumjs/devp2p discv4 node (<c>Fixtures/node/dpt-peer.mjs</c>, the DPT class) on 127.0.0.1, advertising the
/// TCP port of an RLPx peer run beside it with the same key. Its stdout reports each node its table takes.
/// </summary>
public sealed class EthereumJsDptNode : IAsyncDisposable
{
    private EthereumJsDptNode(ProcessHandle process, string id, int udpPort, int tcpPort)
    {
        Process = process;
        Id = id;
        UdpPort = udpPort;
        TcpPort = tcpPort;
    }

    public ProcessHandle Process { get; }

    /// <summary>The node id, 128 hex digits.</summary>
    public string Id { get; }

    public int UdpPort { get; }

    public int TcpPort { get; }

    /// <summary>The enode URL of the pair: the RLPx peer's TCP port, this node's UDP port.</summary>
    public string Enode => $"enode://{Id}@127.0.0.1:{TcpPort}?discport={UdpPort}";

    public static async Task<EthereumJsDptNode> StartAsync(NodeTooling tooling, string name, string privateKeyHex, int tcpPort, IEnumerable<string> bootnodes, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        var udpPort = FreeUdpPort();
        // ethereumjs writes every port as two bytes: port 0 goes out as 0x0000, a non-canonical RLP integer that geth
        // and we refuse (the whole Ping with it). A DPT with no RLPx peer beside it advertises its UDP port instead.
        tcpPort = tcpPort == 0 ? udpPort : tcpPort;
        var process = ProcessHandle.Start(
            name,
            tooling.NodePath,
            [
                "--import", "./loopback.mjs", tooling.Script("dpt-peer.mjs"),
                "--key", privateKeyHex,
                "--udp-port", udpPort.ToString(CultureInfo.InvariantCulture),
                "--tcp-port", tcpPort.ToString(CultureInfo.InvariantCulture),
                "--refresh-ms", "300",
                .. bootnodes.SelectMany(b => new[] { "--bootnode", b }),
            ],
            tooling.FixtureDirectory,
            keepStandardOutput: true);
        try
        {
            var line = await process.WaitForLineAsync(l => Event(l) == "listening", timeout);
            using var json = JsonDocument.Parse(line);
            return new EthereumJsDptNode(process, json.RootElement.GetProperty("id").GetString()!, udpPort, tcpPort);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the table has taken the node of id <paramref name="id"/> (128 hex digits).</summary>
    public Task WaitForPeerAsync(string id, TimeSpan timeout) =>
        Process.WaitForLineAsync(l => Event(l) == "peer" && l.Contains($"\"id\":\"{id}\"", StringComparison.Ordinal), timeout);

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>A UDP port free on 127.0.0.1 now (the script binds it itself).</summary>
    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static string? Event(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.TryGetProperty("event", out var e) ? e.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
