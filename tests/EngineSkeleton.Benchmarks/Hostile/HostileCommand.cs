using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using EngineSkeleton.Testing.Rpc;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>
/// <c>hostile</c> mode (docs/benchmarks.md, "Hostile clients and 1,000 connections"): the real server as a child
/// process syncing from a fake JSON-RPC peer, a storm of malformed requests over HTTP (both ports) and WebSocket with
/// slowloris clients beside it, and at the same time N connections making valid calls. Every answer is classified and
/// compared with the class the case expects; HTTP 5xx, -32603, crashes and error log lines are counted; the valid
/// calls' latency during the storm, the server's peak RSS (VmHWM) and whether the sync still ends VALID are reported.
/// Exit code 0 only if every check held.
/// </summary>
/// <remarks>
/// Options: <c>--requests N</c> (100,000 malformed requests, slowloris included), <c>--connections N</c> (1,000
/// valid-call connections), <c>--storm-workers N</c> (32 concurrent malformed senders), <c>--slowloris N</c> (30 slow
/// clients), <c>--peer-delay-ms MS</c> (1000: each answer of the fake peer is held back so the sync runs into the storm),
/// <c>--baseline-seconds S</c> (15: the same valid calls measured alone before and after the storm; the one before
/// includes the server's warm-up, the one after is the comparison).
/// </remarks>
internal static class HostileCommand
{
    private static readonly TimeSpan SlowlorisBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ValidBound = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = CommandArgs.Long(args, "--requests", 100_000);
        var connections = (int)CommandArgs.Long(args, "--connections", 1000);
        var stormWorkers = (int)CommandArgs.Long(args, "--storm-workers", 32);
        var slowloris = (int)CommandArgs.Long(args, "--slowloris", 30);
        var peerDelay = TimeSpan.FromMilliseconds(CommandArgs.Long(args, "--peer-delay-ms", 1000));
        var baselineTime = TimeSpan.FromSeconds(CommandArgs.Long(args, "--baseline-seconds", 15));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hostile: {requests} malformed requests ({slowloris} slowloris), {connections} valid-call connections, {stormWorkers} storm workers, load {ProcessMeasure.LoadAverage()}"));

        var chain = FakeRpcNode.ExecutionApis;
        var head = chain[^1];
        // Each answer held back by the delay, so the sync is still running while the storm starts.
        await using var peer = await LoopbackRpcNode.StartAsync(chain, beforeAnswer: (_, cancel) => Task.Delay(peerDelay, cancel));
        var dataDir = Directory.CreateTempSubdirectory("es-hostile-").FullName;
        var secret = RandomNumberGenerator.GetBytes(32);
        var secretFile = Path.Combine(dataDir, "jwt.hex");
        await File.WriteAllTextAsync(secretFile, Convert.ToHexString(secret));
        var genesis = Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "genesis.json");
        var checks = new List<(string Check, bool Held, string Detail)>();
        try
        {
            await using var server = await ServerProcess.StartAsync(dataDir, ["--genesis", genesis, "--authrpc.jwtsecret", secretFile, "--sync.rpc", peer.Url.ToString()], TimeSpan.FromSeconds(60));
            using var client = new HostileClient(server.HttpPort, server.EnginePort, secret);
            Console.WriteLine($"server pid {server.Pid}: engine 127.0.0.1:{server.EnginePort}, public 127.0.0.1:{server.HttpPort}, datadir {dataDir}; peer {peer.Url}");

            // The valid-call connections, all open before the storm starts.
            using var stopValid = new CancellationTokenSource();
            var load = new ValidLoad(client, connections);
            var loadTask = load.RunAsync(stopValid.Token);
            await load.AllConnected.WaitAsync(TimeSpan.FromSeconds(120));
            var rssBefore = server.Memory("VmRSS");
            Console.WriteLine($"{connections} connections open; server RSS {Mb(rssBefore)}, {server.OpenDescriptors()} fds");
            load.Phase = ValidLoad.Baseline;
            await Task.Delay(baselineTime);
            load.Phase = ValidLoad.Idle;

            // The sync: newPayload of the head, forkchoiceUpdated to it, as a consensus client would; it runs into the storm.
            var newPayload = SyncDriver.Status(await PostAsync(client, SyncDriver.NewPayload(head)));
            var firstFcu = SyncDriver.Status(await PostAsync(client, SyncDriver.ForkchoiceUpdated(head.Hash)));
            Console.WriteLine($"sync started: newPayload {newPayload}, forkchoiceUpdated {firstFcu} (head {head.Header.Number} {head.Hash})");

            var storm = Stopwatch.StartNew();
            load.Phase = ValidLoad.Storm;
            var validDuringStorm = Task.Run(() => WaitForValidAsync(client, head.Hash, storm, ValidBound));
            var tally = new Tally();
            var slowTask = RunSlowlorisAsync(client, slowloris, tally);
            var peakFds = 0;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peakFds = Math.Max(peakFds, server.OpenDescriptors());
                    await Task.Delay(250).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });
            await RunStormAsync(client, requests - slowloris, stormWorkers, tally, server);
            var stormTime = storm.Elapsed;
            await slowTask;
            load.Phase = ValidLoad.Idle;
            await sampling.CancelAsync();
            await sampler;
            var validAt = await validDuringStorm;
            load.Phase = ValidLoad.After;
            await Task.Delay(baselineTime);
            load.Phase = ValidLoad.Idle;
            await stopValid.CancelAsync();
            await loadTask;

            // After: alive on both ports, VALID, memory.
            var alivePublic = HostileClient.Classify("http", await PostBytesAsync(client, Listener.Public, """{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"""u8.ToArray()));
            var aliveEngine = HostileClient.Classify("http", await PostBytesAsync(client, Listener.Engine, """{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[[]]}"""u8.ToArray()));
            var finalFcu = SyncDriver.Status(await PostAsync(client, SyncDriver.ForkchoiceUpdated(head.Hash)));
            var peak = server.Memory("VmHWM");
            var rssAfter = server.Memory("VmRSS");
            var exited = server.HasExited;
            var unhandled = server.UnhandledLines;
            var errorLines = server.ErrorLines;
            var recent = server.RecentOutput();
            var exitCode = await server.StopAsync(TimeSpan.FromSeconds(15));

            tally.Print();
            var (p50, p99, valid, validFailures) = load.Summary(ValidLoad.Storm);
            var (baseP50, baseP99, baseValid, _) = load.Summary(ValidLoad.Baseline);
            var (afterP50, afterP99, afterValid, _) = load.Summary(ValidLoad.After);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"storm: {tally.Total} malformed requests in {stormTime.TotalSeconds:F1} s ({tally.Total / stormTime.TotalSeconds:F0}/s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"valid calls before the storm ({baselineTime.TotalSeconds:F0} s, no sync): {baseValid} ({baseValid / baselineTime.TotalSeconds:F0}/s), p50 {baseP50:F1} ms, p99 {baseP99:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"valid calls after the storm ({baselineTime.TotalSeconds:F0} s, synced): {afterValid} ({afterValid / baselineTime.TotalSeconds:F0}/s), p50 {afterP50:F1} ms, p99 {afterP99:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"valid calls during the storm ({valid / stormTime.TotalSeconds:F0}/s): {valid} over {connections} connections, p50 {p50:F1} ms, p99 {p99:F1} ms; failed in the whole run {validFailures.Sum(f => f.Value)}{(validFailures.IsEmpty ? "" : " (" + string.Join(", ", validFailures.Select(f => $"{f.Key} x{f.Value}")) + ")")}"));
            Console.WriteLine($"server memory: RSS {Mb(rssBefore)} before the storm, peak (VmHWM) {Mb(peak)}, {Mb(rssAfter)} after; peak fds {peakFds}");
            Console.WriteLine($"sync: newPayload {newPayload}, first forkchoiceUpdated {firstFcu}, VALID {(validAt is { } at ? string.Create(CultureInfo.InvariantCulture, $"at {at.TotalSeconds:F1} s into the storm") : "not reached")}, after the storm {finalFcu}");
            Console.WriteLine($"server after: public {alivePublic}, engine {aliveEngine}; stopped by SIGINT with exit code {exitCode}; {errorLines} error log lines");
            if (errorLines > 0 || unhandled > 0 || exited)
            {
                Console.WriteLine("last server lines:\n  " + string.Join("\n  ", recent.TakeLast(30)));
            }

            checks.Add(("every malformed request answered with its expected class", tally.Mismatches == 0, $"{tally.Mismatches} mismatches"));
            checks.Add(("0 HTTP 5xx", tally.ServerErrors == 0 && !validFailures.Keys.Any(k => k.StartsWith("http 5", StringComparison.Ordinal)), $"{tally.ServerErrors} in the storm"));
            checks.Add(("0 -32603 internal errors", tally.InternalErrors == 0, $"{tally.InternalErrors}"));
            checks.Add(("0 process crashes", !exited && unhandled == 0, exited ? "exited during the run" : $"{unhandled} unhandled-exception lines"));
            checks.Add(("every valid call answered with a result", validFailures.IsEmpty, $"{validFailures.Sum(f => f.Value)} failed"));
            checks.Add(("server alive after", alivePublic == "http result" && aliveEngine == "http result", $"{alivePublic} / {aliveEngine}"));
            checks.Add(("sync reaches VALID", finalFcu == "VALID", finalFcu));
            checks.Add(("clean shutdown", exitCode == 0, $"exit code {exitCode}"));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }

        Console.WriteLine();
        foreach (var (check, held, detail) in checks)
        {
            Console.WriteLine($"{(held ? "PASS" : "FAIL")}  {check} ({detail})");
        }
        return checks.All(c => c.Held) ? 0 : 1;
    }

    private static async Task RunStormAsync(HostileClient client, long count, int workers, Tally tally, ServerProcess server)
    {
        // A fixed shuffle of the weighted catalog, so each run sends the same mix in the same order.
        var schedule = HostileCases.All.SelectMany(c => Enumerable.Repeat(c, c.Weight)).ToArray();
        new Random(14).Shuffle(schedule);
        var next = -1L;
        var progress = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            long i;
            while ((i = Interlocked.Increment(ref next)) < count && !server.HasExited)
            {
                var hostile = schedule[i % schedule.Length];
                string observed;
                try
                {
                    observed = await hostile.Send(client, CancellationToken.None);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or WebSocketException or HttpRequestException)
                {
                    observed = "client error " + e.GetType().Name;
                }
                tally.Add(hostile.Name, hostile.Expected, observed);
                if (i % 10_000 == 0 && i > 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i} sent, {progress.Elapsed.TotalSeconds:F0} s, server RSS {Mb(server.Memory("VmRSS"))}"));
                }
            }
        })));
    }

    private static async Task RunSlowlorisAsync(HostileClient client, int count, Tally tally)
    {
        var kinds = HostileCases.Slowloris;
        var held = new ConcurrentBag<double>();
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var (name, listener, head, dribble, expected) = kinds[i % kinds.Count];
            var (observed, time) = await client.RawAsync(listener, head, dribble, TimeSpan.FromSeconds(1), SlowlorisBound);
            held.Add(time.TotalSeconds);
            tally.Add(name, expected, observed);
        }));
        if (!held.IsEmpty)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"slowloris: {count} clients held {held.Min():F1}..{held.Max():F1} s before the server closed them"));
        }
    }

    /// <summary>Asks forkchoiceUpdated for the head every second until VALID; the time into the storm, or null.</summary>
    private static async Task<TimeSpan?> WaitForValidAsync(HostileClient client, EngineSkeleton.Core.Primitives.Hash256 head, Stopwatch storm, TimeSpan bound)
    {
        while (storm.Elapsed < bound)
        {
            if (SyncDriver.Status(await PostAsync(client, SyncDriver.ForkchoiceUpdated(head))) == "VALID")
            {
                return storm.Elapsed;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return null;
    }

    private static Task<byte[]> PostAsync(HostileClient client, byte[] body) => PostBytesAsync(client, Listener.Engine, body);

    private static async Task<byte[]> PostBytesAsync(HostileClient client, Listener listener, byte[] body)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, client.Url(listener)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (listener == Listener.Engine)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + client.Token());
        }
        using var response = await http.SendAsync(request);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F0} MB");

    /// <summary>Answers by case and class; what counts as a failure.</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<string, (string Expected, ConcurrentDictionary<string, int> Classes)> _cases = new(StringComparer.Ordinal);
        private int _total;
        private int _mismatches;
        private int _serverErrors;
        private int _internalErrors;

        public int Total => _total;

        public int Mismatches => _mismatches;

        public int ServerErrors => _serverErrors;

        public int InternalErrors => _internalErrors;

        public void Add(string name, string expected, string observed)
        {
            Interlocked.Increment(ref _total);
            var entry = _cases.GetOrAdd(name, _ => (expected, new ConcurrentDictionary<string, int>(StringComparer.Ordinal)));
            entry.Classes.AddOrUpdate(observed, 1, (_, n) => n + 1);
            if (!Matches(expected, observed))
            {
                Interlocked.Increment(ref _mismatches);
            }
            if (observed.StartsWith("http 5", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _serverErrors);
            }
            if (observed.Contains("-32603", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _internalErrors);
            }
        }

        private static bool Matches(string expected, string observed) => expected.Split('|').Contains(observed, StringComparer.Ordinal);

        public void Print()
        {
            Console.WriteLine();
            Console.WriteLine($"{"case",-52} {"sent",7}  {"expected",-32} result");
            foreach (var (name, (expected, classes)) in _cases.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                var sent = classes.Values.Sum();
                var wrong = classes.Where(c => !Matches(expected, c.Key)).Select(c => $"{c.Key} x{c.Value}").ToList();
                Console.WriteLine($"{name,-52} {sent,7}  {expected,-32} {(wrong.Count == 0 ? "ok" : "WRONG: " + string.Join("; ", wrong))}");
            }
            Console.WriteLine();
            Console.WriteLine("answer classes over all malformed requests:");
            var all = _cases.Values.SelectMany(c => c.Classes).GroupBy(c => c.Key, StringComparer.Ordinal).Select(g => (Class: g.Key, Count: g.Sum(x => x.Value)));
            foreach (var (answer, count) in all.OrderByDescending(c => c.Count))
            {
                Console.WriteLine($"  {answer,-40} {count,7}");
            }
        }
    }

    /// <summary>N connections, each its own TCP connection, making valid calls one after another (closed loop).</summary>
    private sealed class ValidLoad(HostileClient client, int connections)
    {
        private static readonly byte[][] PublicCalls =
        [
            """{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"""u8.ToArray(),
            """{"jsonrpc":"2.0","id":2,"method":"eth_syncing","params":[]}"""u8.ToArray(),
            """{"jsonrpc":"2.0","id":3,"method":"eth_chainId","params":[]}"""u8.ToArray(),
        ];

        private static readonly byte[][] EngineCalls =
        [
            """{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[["engine_newPayloadV4"]]}"""u8.ToArray(),
            """{"jsonrpc":"2.0","id":2,"method":"eth_blockNumber","params":[]}"""u8.ToArray(),
            """{"jsonrpc":"2.0","id":3,"method":"engine_getClientVersionV1","params":[{"code":"LS","name":"hostile","version":"1","commit":"0x00000000"}]}"""u8.ToArray(),
        ];

        private readonly TaskCompletionSource _allConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public const int Idle = 0;

        public const int Baseline = 1;

        public const int Storm = 2;

        public const int After = 3;

        private readonly List<long>[][] _latencies = [.. Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, connections).Select(_ => new List<long>(1024)).ToArray())];
        private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
        private int _connected;

        public Task AllConnected => _allConnected.Task;

        /// <summary>Where latencies go: nowhere (<see cref="Idle"/>), <see cref="Baseline"/>, <see cref="Storm"/> or <see cref="After"/>.</summary>
        public volatile int Phase;

        public async Task RunAsync(CancellationToken stop) =>
            await Task.WhenAll(Enumerable.Range(0, connections).Select(w => Task.Run(() => w % 10 == 9 ? SocketWorkerAsync(w, stop) : HttpWorkerAsync(w, stop), CancellationToken.None)));

        public (double P50, double P99, int Count, ConcurrentDictionary<string, int> Failures) Summary(int phase)
        {
            var all = _latencies[phase].SelectMany(l => l).Order().ToArray();
            double At(double q) => all.Length == 0 ? 0 : all[(int)Math.Min(all.Length - 1, q * all.Length)] * 1000.0 / Stopwatch.Frequency;
            return (At(0.50), At(0.99), all.Length, _failures);
        }

        private async Task HttpWorkerAsync(int w, CancellationToken stop)
        {
            var listener = w % 10 >= 6 ? Listener.Engine : Listener.Public;
            var calls = listener == Listener.Engine ? EngineCalls : PublicCalls;
            // Its own handler with one connection: N workers are N TCP connections.
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) }) { Timeout = TimeSpan.FromSeconds(60) };
            var first = true;
            for (var i = w; !stop.IsCancellationRequested; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, client.Url(listener)) { Content = new ByteArrayContent(calls[i % calls.Length]) };
                request.Content.Headers.ContentType = new("application/json");
                if (listener == Listener.Engine)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + client.Token());
                }
                var started = Stopwatch.GetTimestamp();
                string observed;
                try
                {
                    using var response = await http.SendAsync(request, stop);
                    observed = HostileClient.Classify("http " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), await response.Content.ReadAsByteArrayAsync(stop));
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    observed = e.GetType().Name;
                }
                Record(w, started, observed, "http 200 result", ref first);
            }
        }

        private async Task SocketWorkerAsync(int w, CancellationToken stop)
        {
            using var socket = new ClientWebSocket();
            socket.Options.Proxy = null;
            var first = true;
            try
            {
                await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{client.PublicPort}/"), stop);
                var buffer = new byte[16 * 1024];
                for (var i = w; !stop.IsCancellationRequested; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await socket.SendAsync(PublicCalls[i % 2], WebSocketMessageType.Text, true, stop);
                    var result = await socket.ReceiveAsync(buffer, stop);
                    var observed = result.MessageType == WebSocketMessageType.Close ? "ws close" : HostileClient.Classify("ws", buffer.AsSpan(0, result.Count));
                    Record(w, started, observed, "ws result", ref first);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Done.
            }
            catch (Exception e) when (e is WebSocketException or IOException)
            {
                _failures.AddOrUpdate("ws " + e.GetType().Name, 1, (_, n) => n + 1);
                if (first && Interlocked.Increment(ref _connected) == connections)
                {
                    _allConnected.TrySetResult();
                }
            }
        }

        private void Record(int w, long started, string observed, string expected, ref bool first)
        {
            var phase = Phase;
            if (phase != Idle)
            {
                _latencies[phase][w].Add(Stopwatch.GetTimestamp() - started);
            }
            if (observed != expected)
            {
                _failures.AddOrUpdate(observed, 1, (_, n) => n + 1);
            }
            if (first)
            {
                first = false;
                if (Interlocked.Increment(ref _connected) == connections)
                {
                    _allConnected.TrySetResult();
                }
            }
        }
    }
}
