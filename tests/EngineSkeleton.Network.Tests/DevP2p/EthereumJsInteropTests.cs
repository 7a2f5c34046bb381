using System.Diagnostics;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>
/// Runs only with <c>DEVP2P_ETHEREUMJS_FIXTURE</c> set to the folder of devp2p-peer.mjs with its node_modules
/// installed (tests/EngineSkeleton.EndToEnd.Tests/Fixtures/node); otherwise reported as skipped, never silently.
/// </summary>
public sealed class EthereumJsFactAttribute : FactAttribute
{
    public const string Variable = "DEVP2P_ETHEREUMJS_FIXTURE";

    public EthereumJsFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } folder || !File.Exists(Path.Combine(folder, "devp2p-peer.mjs")))
        {
            Skip = $"interop, opt-in: set {Variable} to the folder of devp2p-peer.mjs with node_modules installed";
        }
    }
}

/// <summary>
/// Our network against a third-party devp2p stack, @ethereumjs/devp2p 10.0.0 (eth/68 only), both ways, on the
/// execution-apis chain cut at block 50 (the fixture README: ethereumjs refuses EIP-2124 fork ids from block 51).
/// </summary>
public sealed class EthereumJsInteropTests
{
    private const ulong Head = 50;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    [EthereumJsFact]
    public async Task We_dial_ethereumjs_negotiate_eth68_and_fetch_its_headers_and_bodies()
    {
        using var fixture = Start("--serve", "--port", "0", "--head", $"{Head}");
        var listening = await fixture.NextAsync("listening");
        var enode = Enode.Parse(listening.GetProperty("enode").GetString()!);
        await using var node = new TestNode(new MemoryEthChain(Head), new FakeTimeProvider(), new DevP2pOptions { StaticNodes = [enode] });
        await node.Network.StartAsync(CancellationToken.None);

        var peer = await node.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Equal(68, Assert.Single(node.Network.Peers).EthVersion);
        var headers = await peer.GetHeadersReverseAsync(Head, 64, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(Enumerable.Range(0, (int)Head + 1).Reverse().Select(n => ExecutionApisChain.At((ulong)n).Header), headers);
        Assert.Equal(ExecutionApisChain.At(7).Header, await peer.GetHeaderByHashAsync(ExecutionApisChain.At(7).Hash, CancellationToken.None).WaitAsync(Hang));
        var hashes = headers.Where(h => h.Number > 0).Select(h => h.Hash).ToArray();
        var bodies = await peer.GetBodiesAsync(hashes, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(hashes.Select(h => (BlockBody?)ExecutionApisChain.At(headers.First(x => x.Hash == h).Number).Body), bodies);
    }

    [EthereumJsFact]
    public async Task Ethereumjs_dials_us_and_fetches_our_headers_and_bodies_and_checks_them()
    {
        await using var node = new TestNode(new MemoryEthChain(Head), new FakeTimeProvider());
        await node.Network.StartAsync(CancellationToken.None);

        using var fixture = Start("--dial", node.Network.Self.ToString(), "--fetch-headers", "head:64:1", "--fetch-bodies", "--exit-when-done");
        var headers = await fixture.NextAsync("headers");
        Assert.True(headers.GetProperty("ok").GetBoolean(), headers.ToString());
        Assert.Equal((int)Head + 1, headers.GetProperty("count").GetInt32());
        var bodies = await fixture.NextAsync("bodies");
        Assert.True(bodies.GetProperty("verified").GetBoolean(), bodies.ToString());
        await fixture.Process.WaitForExitAsync().WaitAsync(Hang);
        Assert.Equal(0, fixture.Process.ExitCode);
        var peer = await node.Sink.Joins.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        var (left, reason) = await node.Sink.Leaves.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        Assert.Same(peer, left);
        Assert.Contains("disconnected by peer", reason, StringComparison.Ordinal);
    }

    private static Fixture Start(params string[] arguments)
    {
        var folder = Environment.GetEnvironmentVariable(EthereumJsFactAttribute.Variable)!;
        var info = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["--import", "./loopback.mjs", "devp2p-peer.mjs",
            "--genesis", Path.Combine(ExecutionApisChain.Directory, "genesis.json"), "--chain", Path.Combine(ExecutionApisChain.Directory, "chain.rlp"), .. arguments])
        {
            info.ArgumentList.Add(argument);
        }
        return new Fixture(Process.Start(info)!);
    }

    /// <summary>The fixture process and its stdout, one JSON event a line.</summary>
    private sealed class Fixture(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        public async Task<JsonElement> NextAsync(string name)
        {
            while (await Process.StandardOutput.ReadLineAsync().WaitAsync(Hang) is { } line)
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.GetProperty("event").GetString() == name)
                {
                    return root.Clone();
                }
                Assert.NotEqual("error", root.GetProperty("event").GetString());
            }
            throw new EndOfStreamException($"the fixture ended before a '{name}' event: {await Process.StandardError.ReadToEndAsync()}");
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            Process.Dispose();
        }
    }
}
