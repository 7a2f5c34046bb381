using System.Globalization;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A peer built on the published <c>@ethereumjs/devp2p</c> 10.0.0 (Fixtures/node/devp2p-peer.mjs): RLPx and eth/68 from
/// software nobody here wrote. It prints one JSON object a line (see that folder's README); this reads them. Every socket
/// is on 127.0.0.1 (loopback.mjs) and it runs no discovery. Disposing stops it by PID.
/// </summary>
public sealed class EthereumJsDevP2pPeer : IAsyncDisposable
{
    private EthereumJsDevP2pPeer(ProcessHandle process, string enode)
    {
        Process = process;
        Enode = enode;
    }

    public ProcessHandle Process { get; }

    /// <summary>Its enode URL on 127.0.0.1, from its <c>listening</c> line.</summary>
    public string Enode { get; }

    /// <summary>Starts the script with <paramref name="arguments"/> and returns once it listens.</summary>
    public static async Task<EthereumJsDevP2pPeer> StartAsync(NodeTooling tooling, string name, IEnumerable<string> arguments, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        var process = ProcessHandle.Start(
            name,
            tooling.NodePath,
            ["--import", "./loopback.mjs", tooling.Script("devp2p-peer.mjs"), "--port", "0", .. arguments],
            tooling.FixtureDirectory,
            keepStandardOutput: true);
        try
        {
            var line = await process.WaitForLineAsync(l => Event(l) == "listening", timeout);
            using var json = JsonDocument.Parse(line);
            return new EthereumJsDevP2pPeer(process, json.RootElement.GetProperty("enode").GetString()!);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>The first line whose <c>event</c> is <paramref name="name"/> (seen or still to come), parsed.</summary>
    public async Task<JsonElement> WaitForEventAsync(string name, TimeSpan timeout)
    {
        var line = await Process.WaitForLineAsync(l => Event(l) == name, timeout);
        using var json = JsonDocument.Parse(line);
        return json.RootElement.Clone();
    }

    /// <summary>Every line printed so far with this event name, parsed.</summary>
    public IReadOnlyList<JsonElement> Events(string name) =>
        [.. Process.StandardOutputLines().Where(l => Event(l) == name).Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            return json.RootElement.Clone();
        })];

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>Arguments that serve the execution-apis chain up to <paramref name="head"/>.</summary>
    public static string[] Serving(string genesisFile, string chainFile, int head) =>
        ["--genesis", genesisFile, "--chain", chainFile, "--head", head.ToString(CultureInfo.InvariantCulture), "--serve"];

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
