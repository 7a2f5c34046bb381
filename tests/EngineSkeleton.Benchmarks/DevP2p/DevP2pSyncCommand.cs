using System.Diagnostics;
using System.Globalization;
using System.Net;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging.Abstractions;
using static EngineSkeleton.Benchmarks.Skeleton.SkeletonOnly;

namespace EngineSkeleton.Benchmarks.DevP2p;

/// <summary>
/// <c>devp2p</c> mode: the skeleton sync of a generated chain over loopback RLPx against the same sync from
/// in-process peers, in one process, rounds alternating (docs/benchmarks.md, "Skeleton sync over devp2p"):
/// <list type="number">
/// <item>in-process: <see cref="SkeletonSync"/> fed by K <see cref="InProcessPeer"/>s, as the <c>skeleton</c>
/// command's sync phase;</item>
/// <item>devp2p: K serving <see cref="DevP2pNetwork"/>s on 127.0.0.1 (each over a <see cref="GeneratedEthChain"/> of
/// the same headers) dialed as static nodes by one syncing network, whose <see cref="IDevP2pPeerSink"/> hands each
/// eth peer to the <see cref="SkeletonSync"/>. The clock starts once every peer has joined: the handshakes are not
/// in the rate.</item>
/// </list>
/// Each phase syncs into a fresh on-disk <see cref="SkeletonStore"/> until linked to the genesis. Reports both rates,
/// their ratio (the issue's target ≥ 0.8), whole-process CPU per header for both (the difference is what RLPx and eth
/// cost: both ends' encode, frame cipher, MACs, snappy, decode and the sockets) and peak RSS (VmHWM, reset before each
/// phase). Options: <c>--headers N</c> (1,000,000), <c>--peers K</c> (1), <c>--seed S</c> (1), <c>--rounds R</c> (1),
/// <c>--warmup W</c> (headers of an unreported first round of both phases; min(N, 100,000)), <c>--timeout S</c>
/// (seconds a phase may take before the run fails; 900), <c>--dir DIR</c> (a temp directory, deleted unless
/// <c>--keep</c>). <c>--stages</c> runs the per-side stage profile instead (<see cref="DevP2pStages"/>).
/// </summary>
internal static class DevP2pSyncCommand
{
    /// <summary>Every peer must have passed Hello and Status within this; the network's own dial timeout is 15 s.</summary>
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--stages"))
        {
            return await DevP2pStages.RunAsync(args);
        }
        var headers = (ulong)CommandArgs.Long(args, "--headers", 1_000_000);
        var peerCount = (int)CommandArgs.Long(args, "--peers", 1);
        var seed = (ulong)CommandArgs.Long(args, "--seed", 1);
        var rounds = (int)CommandArgs.Long(args, "--rounds", 1);
        var timeout = TimeSpan.FromSeconds(CommandArgs.Long(args, "--timeout", 900));
        var keep = args.Contains("--keep");
        var root = CommandArgs.String(args, "--dir") ?? Directory.CreateTempSubdirectory("es-bench-devp2p-").FullName;
        Directory.CreateDirectory(root);

        Console.WriteLine(Inv($"devp2p skeleton sync benchmark: {headers:N0} headers, {peerCount} peer(s) per phase, seed {seed}, stores under {root}"));
        Console.WriteLine(Inv($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}"));
        var clock = Stopwatch.StartNew();
        var chain = GeneratedChain.Headers(headers + 1, seed);
        Console.WriteLine(Inv($"chain generated in {clock.Elapsed.TotalSeconds:F1} s; RSS now {ProcessMeasure.Rss("VmRSS") / 1_000_000:N0} MB; load average {ProcessMeasure.LoadAverage()}"));

        try
        {
            // Unreported: both phases then run tier-1 code (the skeleton command's warm-up, for the same reason).
            var warmHeaders = (ulong)CommandArgs.Long(args, "--warmup", (long)Math.Min(headers, 100_000UL));
            var warmChain = GeneratedChain.Headers(warmHeaders + 1, seed + 1);
            await RunInProcessAsync(warmChain, warmHeaders, peerCount, Path.Combine(root, "warmup", "inprocess"), timeout);
            await RunDevP2pAsync(warmChain, warmHeaders, peerCount, Path.Combine(root, "warmup", "devp2p"), timeout);
            Directory.Delete(Path.Combine(root, "warmup"), recursive: true);
            Console.WriteLine(Inv($"warm-up round of {warmHeaders:N0} headers done; load average {ProcessMeasure.LoadAverage()}"));

            var ratios = new List<double>();
            var inProcessRates = new List<double>();
            var devP2pRates = new List<double>();
            var inProcessCpu = new List<double>();
            var devP2pCpu = new List<double>();
            long peakInProcess = 0, peakDevP2p = 0;
            for (var round = 1; round <= rounds; round++)
            {
                var dir = Path.Combine(root, Inv($"round{round}"));
                // Alternate which phase goes first: drift in the machine's load then hits both.
                PhaseResult inProcess, devP2p;
                if (round % 2 == 1)
                {
                    inProcess = await RunInProcessAsync(chain, headers, peerCount, Path.Combine(dir, "inprocess"), timeout);
                    devP2p = await RunDevP2pAsync(chain, headers, peerCount, Path.Combine(dir, "devp2p"), timeout);
                }
                else
                {
                    devP2p = await RunDevP2pAsync(chain, headers, peerCount, Path.Combine(dir, "devp2p"), timeout);
                    inProcess = await RunInProcessAsync(chain, headers, peerCount, Path.Combine(dir, "inprocess"), timeout);
                }
                Console.WriteLine(Inv($"round {round} of {rounds} ({(round % 2 == 1 ? "in-process first" : "devp2p first")}):"));
                Print("  in-process peers     ", inProcess);
                Print("  devp2p, loopback RLPx", devP2p);
                Console.WriteLine(Inv($"  ratio {devP2p.Rate / inProcess.Rate:F2}; RLPx/eth CPU {devP2p.CpuPerHeader - inProcess.CpuPerHeader:F1} µs/header; load average {ProcessMeasure.LoadAverage()}"));
                ratios.Add(devP2p.Rate / inProcess.Rate);
                inProcessRates.Add(inProcess.Rate);
                devP2pRates.Add(devP2p.Rate);
                inProcessCpu.Add(inProcess.CpuPerHeader);
                devP2pCpu.Add(devP2p.CpuPerHeader);
                peakInProcess = Math.Max(peakInProcess, inProcess.PeakRss);
                peakDevP2p = Math.Max(peakDevP2p, devP2p.PeakRss);
                Directory.Delete(dir, recursive: true);
            }
            Console.WriteLine(Inv($"in-process {Median(inProcessRates):N0} headers/s, devp2p {Median(devP2pRates):N0} headers/s (medians of {rounds})"));
            Console.WriteLine(Inv($"ratio: {Median(ratios):F2} of the in-process rate, median of rounds [{string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}] (target: >= 0.80)"));
            Console.WriteLine(Inv($"CPU: in-process {Median(inProcessCpu):F1} µs/header, devp2p {Median(devP2pCpu):F1} µs/header: RLPx/eth {Median(devP2pCpu) - Median(inProcessCpu):F1} µs/header (medians; whole process, both ends of the connection)"));
            Console.WriteLine(Inv($"peak RSS: in-process {peakInProcess / 1_000_000.0:F0} MB, devp2p {peakDevP2p / 1_000_000.0:F0} MB (highest of the rounds; both ends in this process)"));
            return 0;
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private sealed record PhaseResult(ulong Headers, TimeSpan Elapsed, TimeSpan Cpu, long PeakRss, GcCost Gc)
    {
        public double Rate => Headers / Elapsed.TotalSeconds;

        public double CpuPerHeader => Cpu.TotalMicroseconds / Headers;
    }

    private static Task<PhaseResult> RunInProcessAsync(IReadOnlyList<BlockHeader> chain, ulong headers, int peerCount, string dir, TimeSpan timeout) =>
        MeasureSyncAsync(chain, headers, dir, timeout, (sync, _) =>
        {
            for (var i = 0; i < peerCount; i++)
            {
                sync.AddPeer(new InProcessPeer($"peer{i}", chain));
            }
            return Task.FromResult<IAsyncDisposable?>(null);
        });

    private static Task<PhaseResult> RunDevP2pAsync(IReadOnlyList<BlockHeader> chain, ulong headers, int peerCount, string dir, TimeSpan timeout) =>
        MeasureSyncAsync(chain, headers, dir, timeout, async (sync, peers) =>
        {
            var nodes = new DevP2pNodes();
            try
            {
                var served = new GeneratedEthChain(chain, headers);
                for (var i = 0; i < peerCount; i++)
                {
                    var server = nodes.Add(served, new NullSink());
                    await server.StartAsync(CancellationToken.None);
                }
                var sink = new JoinSink(sync, peers, peerCount);
                var client = nodes.Add(new GeneratedEthChain(chain, 0), sink, [.. nodes.Networks.Select(n => n.Self)]);
                await client.StartAsync(CancellationToken.None);
                await sink.AllJoined.WaitAsync(JoinTimeout);
                return nodes;
            }
            catch
            {
                await nodes.DisposeAsync();
                throw;
            }
        });

    /// <summary>
    /// One sync of <paramref name="headers"/> headers into a fresh store, from the peers <paramref name="connect"/>
    /// gives the sync (before the clock starts); what it returns is disposed after the sync.
    /// </summary>
    private static async Task<PhaseResult> MeasureSyncAsync(
        IReadOnlyList<BlockHeader> chain, ulong headers, string dir, TimeSpan timeout, Func<SkeletonSync, PeerSet, Task<IAsyncDisposable?>> connect)
    {
        var linked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var store = SkeletonStore.OpenInDataDir(dir);
        var peers = new PeerSet(TimeProvider.System);
        var sync = new SkeletonSync(store, peers, new NoBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, NullLogger<SkeletonSync>.Instance);
        IAsyncDisposable? transport = null;
        try
        {
            sync.AfterEvent = snapshot =>
            {
                if (snapshot.Linked)
                {
                    linked.TrySetResult();
                }
            };
            transport = await connect(sync, peers);
            ProcessMeasure.ResetPeakRss();
            var gc = GcCost.Now();
            var cpu = ProcessMeasure.ProcessCpu();
            var started = Stopwatch.GetTimestamp();
            sync.Start();
            if (await sync.SyncAsync(chain[(int)headers], null, force: true).WaitAsync(timeout) != SyncRequestOutcome.Accepted)
            {
                throw new InvalidOperationException("the forced head was refused");
            }
            await linked.Task.WaitAsync(timeout);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return new PhaseResult(headers, elapsed, ProcessMeasure.ProcessCpu() - cpu, ProcessMeasure.Rss("VmHWM"), GcCost.Now().Since(gc));
        }
        finally
        {
            await sync.DisposeAsync();
            if (transport is not null)
            {
                await transport.DisposeAsync();
            }
        }
    }

    private static void Print(string name, PhaseResult result) =>
        Console.WriteLine(Inv($"{name}: {result.Headers:N0} headers in {result.Elapsed.TotalSeconds:F1} s = {result.Rate:N0} headers/s; ")
            + Inv($"CPU {result.Cpu.TotalSeconds:F1} s = {result.CpuPerHeader:F1} µs/header ({result.Cpu / result.Elapsed:F2} cores); peak RSS {result.PeakRss / 1_000_000.0:F0} MB; {result.Gc}"));

    /// <summary>The networks of one phase, each with its key; disposed together, the syncing one (added last) first.</summary>
    private sealed class DevP2pNodes : IAsyncDisposable
    {
        private readonly List<(DevP2pNetwork Network, NodeKey Key)> _nodes = [];

        public IEnumerable<DevP2pNetwork> Networks => _nodes.Select(n => n.Network);

        public DevP2pNetwork Add(IEthChain chain, IDevP2pPeerSink sink, IReadOnlyList<Enode>? staticNodes = null)
        {
            var key = NodeKey.Generate();
            var options = new DevP2pOptions { ListenAddress = IPAddress.Loopback, Port = 0, StaticNodes = staticNodes ?? [] };
            var network = new DevP2pNetwork(options, key, chain, sink, TimeProvider.System, NullLoggerFactory.Instance);
            _nodes.Add((network, key));
            return network;
        }

        public async ValueTask DisposeAsync()
        {
            for (var i = _nodes.Count - 1; i >= 0; i--)
            {
                await _nodes[i].Network.DisposeAsync();
                _nodes[i].Key.Dispose();
            }
        }
    }

    /// <summary>The syncing network's sink: each eth peer to the sync (as the host's SyncPeerSink), out of its peer set on leaving.</summary>
    private sealed class JoinSink(SkeletonSync sync, PeerSet peers, int expected) : IDevP2pPeerSink
    {
        private readonly TaskCompletionSource _allJoined = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _joined;

        public Task AllJoined => _allJoined.Task;

        public void Joined(ISyncPeer peer)
        {
            sync.AddPeer(peer);
            if (Interlocked.Increment(ref _joined) == expected)
            {
                _allJoined.TrySetResult();
            }
        }

        public void Left(ISyncPeer peer, string reason) => peers.Remove(peer);
    }

    /// <summary>The serving networks' sink: the syncing node is no peer of theirs to sync from.</summary>
    private sealed class NullSink : IDevP2pPeerSink
    {
        public void Joined(ISyncPeer peer)
        {
        }

        public void Left(ISyncPeer peer, string reason)
        {
        }
    }
}
