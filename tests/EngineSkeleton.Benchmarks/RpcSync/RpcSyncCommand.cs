using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Benchmarks.RpcSync;

/// <summary>
/// <c>rpcsync</c> mode, issue 15's macro benchmark: a sync from a JSON-RPC peer measured from outside, end to end.
/// <list type="number">
/// <item>A post-merge chain of <c>--blocks N</c> blocks (200,000) is generated on a genesis.json written here (every
/// fork through Prague at genesis), empty bodies or, with <c>--bodies realistic</c>, <see cref="BodyProfile.Mainnet"/>
/// (~150 transactions, ~100 KB a block); a <see cref="LoopbackRpcPeer"/> serves it on 127.0.0.1.</item>
/// <item>A bare client (<see cref="BareRpcPull"/>) with <c>--connections C</c> (4) pulls every header
/// (<c>--batch B</c> = 512 <c>debug_getRawHeader</c> calls a request), then every raw block.</item>
/// <item>The real server starts as README starts it (<see cref="ServerChild"/>: the built dll, <c>--sync.rpc</c> at the
/// peer, free ports, a temp datadir) and is driven to VALID: <c>engine_newPayloadV4(head)</c>, then
/// <c>engine_forkchoiceUpdatedV3(head)</c> with a JWT; its progress is polled (skeleton_status' <c>linked</c> ends the
/// skeleton phase, eth_blockNumber = head ends the backfill) and a last forkchoiceUpdated must answer VALID.</item>
/// </list>
/// Prints both times and their ratio, each phase with its CPU per block (from /proc/PID/stat), the backfill rate by
/// tenths of the chain, the peak RSS (VmHWM) and the datadir's bytes per block. The child is stopped by its PID.
/// Options: <c>--seed S</c> (1), <c>--dir DIR</c> (a temp directory, deleted unless <c>--keep</c>), <c>--skip-bare</c>,
/// <c>--timeout-s T</c> (bound of the node's sync; 600 + N/500), <c>--server-arg A</c> (repeatable: extra server flags),
/// <c>--rounds R</c> (1: node syncs, each on a fresh datadir), <c>--compare DLL</c> (an A/B in one run: each round syncs
/// the other server build at DLL first, then this one, and both are printed). <c>--store-probe N</c> times the chain
/// store alone instead (<see cref="StoreGrowthProbe"/>; <c>--run R</c> blocks a transaction, 128).
/// </summary>
internal static class RpcSyncCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(string[] args)
    {
        var blocks = (ulong)CommandArgs.Long(args, "--blocks", 200_000);
        var seed = (ulong)CommandArgs.Long(args, "--seed", 1);
        var connections = (int)CommandArgs.Long(args, "--connections", 4);
        var batch = (int)CommandArgs.Long(args, "--batch", 512);
        var realistic = CommandArgs.String(args, "--bodies") == "realistic";
        var bound = TimeSpan.FromSeconds(CommandArgs.Long(args, "--timeout-s", 600 + ((long)blocks / 500)));
        var keep = args.Contains("--keep");
        var serverArgs = args.Select((a, i) => (a, i)).Where(x => x.a == "--server-arg" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToList();
        var root = CommandArgs.String(args, "--dir") ?? Directory.CreateTempSubdirectory("es-bench-rpcsync-").FullName;
        Directory.CreateDirectory(root);
        if (CommandArgs.String(args, "--store-probe") is not null)
        {
            try
            {
                return CommandArgs.String(args, "--raw-keys") is { } keys
                    ? StoreGrowthProbe.RunRaw((ulong)CommandArgs.Long(args, "--store-probe", 0), root, (int)CommandArgs.Long(args, "--run", 128), keys != "random", CommandArgs.String(args, "--hash-index"), (int)CommandArgs.Long(args, "--checkpoint", 1000))
                    : StoreGrowthProbe.Run((ulong)CommandArgs.Long(args, "--store-probe", 0), root, (int)CommandArgs.Long(args, "--run", 128));
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        Console.WriteLine(Inv($"rpcsync benchmark: {blocks:N0} blocks, {(realistic ? "BodyProfile.Mainnet bodies" : "empty bodies")}, seed {seed}; bare client {connections} connections x {batch} calls a batch; work under {root}"));
        Console.WriteLine(Inv($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load average {ProcessMeasure.LoadAverage()}"));
        try
        {
            var clock = Stopwatch.StartNew();
            var genesisFile = Path.Combine(root, "genesis.json");
            await File.WriteAllTextAsync(genesisFile, GenesisJson);
            var genesis = GethGenesis.Load(genesisFile);
            var chain = GeneratedChain.Headers(blocks + 1, seed, genesis.Header, realistic ? BodyProfile.Mainnet : null);
            var bodies = realistic ? GeneratedChain.Bodies(chain) : null;
            var head = chain[(int)blocks];
            await using var peer = await LoopbackRpcPeer.StartAsync(chain, bodies);
            Console.WriteLine(Inv($"chain generated and served in {clock.Elapsed.TotalSeconds:F1} s at {peer.Url}; head #{head.Number} {head.Hash}"));

            double bareHeaders = double.NaN, bareBlocks = double.NaN;
            if (!args.Contains("--skip-bare"))
            {
                (bareHeaders, bareBlocks) = await BareAsync(peer, blocks, connections, batch);
            }

            var rounds = (int)CommandArgs.Long(args, "--rounds", 1);
            var compare = CommandArgs.String(args, "--compare");
            var server = Path.Combine(AppContext.BaseDirectory, "EngineSkeleton.Server.dll");
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var (name, dll) in compare is null ? [("this", server)] : (IEnumerable<(string, string)>)[("compared", Path.GetFullPath(compare)), ("this", server)])
                {
                    Console.WriteLine(Inv($"--- round {round}, {name} server: {dll}; load average {ProcessMeasure.LoadAverage()}"));
                    var dir = Path.Combine(root, $"node-{round}-{name}");
                    var node = await NodeAsync(peer, genesisFile, chain, bodies, dir, dll, serverArgs, bound);
                    Report(name, blocks, realistic, bareHeaders, bareBlocks, node);
                    Directory.Delete(dir, recursive: true);
                }
            }
            return 0;
        }
        finally
        {
            if (!keep)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static void Report(string name, ulong blocks, bool realistic, double bareHeaders, double bareBlocks, NodeResult node)
    {
        var bare = bareHeaders + bareBlocks;
        Console.WriteLine(Inv($"RESULT blocks={blocks} bodies={(realistic ? "realistic" : "empty")} bare={bare:F2}s (headers {bareHeaders:F2}s + blocks {bareBlocks:F2}s) node={node.Total:F2}s ratio(bare/node)={bare / node.Total:F2} ")
            + Inv($"skeleton={node.Skeleton:F2}s ({blocks / node.Skeleton:N0} headers/s, {bareHeaders / node.Skeleton:F2}x bare) backfill={node.Backfill:F2}s ({blocks / node.Backfill:N0} blocks/s) ")
            + Inv($"tenths first={node.FirstTenth:N0}/s last={node.LastTenth:N0}/s (last/first {node.LastTenth / node.FirstTenth:F2}) peakRSS={node.PeakRss / 1_000_000.0:F0}MB server={name}"));
    }

    private sealed record NodeResult(double Total, double Skeleton, double Backfill, double FirstTenth, double LastTenth, long PeakRss);

    private static async Task<(double Headers, double Blocks)> BareAsync(LoopbackRpcPeer peer, ulong blocks, int connections, int batch)
    {
        using var bare = new BareRpcPull(peer.Url, connections, batch);
        var warm = Math.Min(blocks, (ulong)batch * (ulong)connections * 2);
        await bare.PullAsync("debug_getRawHeader", warm, CancellationToken.None);
        await bare.PullAsync("debug_getRawBlock", warm, CancellationToken.None);

        var started = Stopwatch.GetTimestamp();
        var headerBytes = await bare.PullAsync("debug_getRawHeader", blocks, CancellationToken.None);
        var headers = Stopwatch.GetElapsedTime(started).TotalSeconds;
        started = Stopwatch.GetTimestamp();
        var blockBytes = await bare.PullAsync("debug_getRawBlock", blocks, CancellationToken.None);
        var raw = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine(Inv($"bare headers: {headers:F2} s = {blocks / headers:N0} headers/s ({headerBytes / (double)blocks:F0} bytes each)"));
        Console.WriteLine(Inv($"bare blocks:  {raw:F2} s = {blocks / raw:N0} blocks/s, {blockBytes / raw / 1_000_000:F1} MB/s ({blockBytes / (double)blocks:F0} bytes each)"));
        return (headers, raw);
    }

    private static async Task<NodeResult> NodeAsync(
        LoopbackRpcPeer peer, string genesisFile, IReadOnlyList<BlockHeader> chain, IReadOnlyList<BlockBody?>? bodies, string dataDir, string serverDll, IReadOnlyList<string> serverArgs, TimeSpan bound)
    {
        var blocks = (ulong)chain.Count - 1;
        var head = chain[^1];
        var logFile = dataDir + ".log";
        await using var server = await ServerChild.StartAsync(serverDll, genesisFile, peer.Url, dataDir, logFile, serverArgs);
        Console.WriteLine(Inv($"server pid {server.Pid} ready: engine {server.EngineUrl}, http {server.RpcUrl}; RSS {server.Status("VmRSS") / 1_000_000.0:F0} MB; log {logFile}"));
        using var deadline = new CancellationTokenSource(bound);
        var cpu0 = server.Cpu();
        var started = Stopwatch.GetTimestamp();
        var payload = await server.NewPayloadAsync(new Block(head, bodies?[^1] ?? BlockBody.Empty), deadline.Token);
        var forkchoice = await server.ForkchoiceUpdatedAsync(head.Hash, deadline.Token);
        Console.WriteLine(Inv($"newPayload(head) {payload}, forkchoiceUpdated(head) {forkchoice} after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms"));

        double? linkedAt = null;
        TimeSpan cpuLinked = default;
        var samples = new List<(double Seconds, ulong Number)>();
        ulong number = 0;
        var lastPrint = 0.0;
        while (number < blocks)
        {
            await Task.Delay(Poll, deadline.Token); // cross-process: progress is only seen by asking
            var now = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (linkedAt is null)
            {
                var status = await server.RpcAsync("skeleton_status", "[]", deadline.Token);
                if (status.GetProperty("linked").ValueKind == JsonValueKind.True)
                {
                    linkedAt = now;
                    cpuLinked = server.Cpu();
                    Console.WriteLine(Inv($"  {now,6:F1} s linked: skeleton phase done, CPU {(cpuLinked - cpu0).TotalSeconds:F1} s, RSS {server.Status("VmRSS") / 1_000_000.0:F0} MB"));
                }
            }
            var hex = (await server.RpcAsync("eth_blockNumber", "[]", deadline.Token)).GetString()!;
            number = ulong.Parse(hex.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            samples.Add((now, number));
            if (now - lastPrint >= 5)
            {
                lastPrint = now;
                Console.WriteLine(Inv($"  {now,6:F1} s head #{number:N0}, CPU {(server.Cpu() - cpu0).TotalSeconds:F1} s, RSS {server.Status("VmRSS") / 1_000_000.0:F0} MB"));
            }
        }
        var filledAt = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuFilled = server.Cpu();
        string status2;
        while ((status2 = await server.ForkchoiceUpdatedAsync(head.Hash, deadline.Token)) != "VALID")
        {
            await Task.Delay(Poll, deadline.Token);
        }
        var total = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var peakRss = server.Status("VmHWM");
        var skeleton = linkedAt ?? samples.First(s => s.Number > 0).Seconds;
        var backfill = filledAt - skeleton;
        var tenth = blocks / 10;
        double Crossed(ulong n) => samples.First(s => s.Number >= n).Seconds;
        var firstTenth = tenth / (Crossed(tenth) - skeleton);
        var lastTenth = tenth / (filledAt - Crossed(blocks - tenth));
        Console.WriteLine(Inv($"node: VALID after {total:F2} s ({status2}); skeleton {skeleton:F2} s = {blocks / skeleton:N0} headers/s, CPU {(cpuLinked - cpu0).TotalMilliseconds * 1000 / blocks:F0} µs/header; ")
            + Inv($"backfill {backfill:F2} s = {blocks / backfill:N0} blocks/s, CPU {(cpuFilled - cpuLinked).TotalMilliseconds * 1000 / blocks:F0} µs/block"));
        Console.Write("  backfill by tenths (blocks/s):");
        var previous = skeleton;
        for (var k = 1UL; k <= 10; k++)
        {
            var at = k == 10 ? filledAt : Crossed(k * tenth);
            // Two tenths crossed within one 100 ms poll (small chains) have no rate of their own: shown as "-".
            Console.Write(at > previous ? Inv($" {tenth / (at - previous):N0}") : " -");
            previous = at;
        }
        Console.WriteLine();
        Console.WriteLine(Inv($"  peak RSS (VmHWM) {peakRss / 1_000_000.0:F0} MB; datadir: ") + string.Join(", ",
            Directory.EnumerateFiles(dataDir).Select(f => new FileInfo(f)).Where(f => f.Length > 4096)
                .Select(f => Inv($"{f.Name} {f.Length / 1_000_000.0:F1} MB = {f.Length / (double)blocks:F0} B/block"))));
        var result = new NodeResult(total, skeleton, backfill, firstTenth, lastTenth, peakRss);
        await server.DisposeAsync(); // stopped by its PID before its datadir is deleted
        return result;
    }

    /// <summary>A post-merge chain with every fork through Prague at genesis, chain id 1 (GeneratedChain.SpecFor's), Prague's blob schedule.</summary>
    private const string GenesisJson = """
        {
          "config": {
            "chainId": 1, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0, "byzantiumBlock": 0,
            "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0, "berlinBlock": 0, "londonBlock": 0,
            "mergeNetsplitBlock": 0, "terminalTotalDifficulty": 0, "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0,
            "blobSchedule": {
              "cancun": { "target": 6, "max": 9, "baseFeeUpdateFraction": 5007716 },
              "prague": { "target": 6, "max": 9, "baseFeeUpdateFraction": 5007716 }
            }
          },
          "nonce": "0x0", "timestamp": "0x684ee180", "extraData": "0x456e67696e65536b656c65746f6e", "gasLimit": "0x2255100",
          "difficulty": "0x0", "mixHash": "0x0000000000000000000000000000000000000000000000000000000000000000",
          "coinbase": "0x0000000000000000000000000000000000000000", "alloc": {}
        }
        """;

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
