using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.SyncHost;

/// <summary>
/// A process that runs one skeleton sync and nothing else, for tests that kill it (docs/quality.md, kill -9 at random
/// points): <c>--datadir DIR --headers N --seed S [--peers K] [--backfill]</c>. It generates the chain
/// <c>GeneratedChain.Headers(N + 1, S)</c>, opens the skeleton store in DIR (resuming whatever progress is there),
/// serves the chain from K in-process peers (4 by default) and forces head N. It exits 0 once linked to the genesis.
/// With <c>--backfill</c> the chain's blocks carry bodies (<see cref="BodyProfile.Mixed"/>), a chain store in DIR
/// (resumed too) is the link target, a <see cref="Backfiller"/> fills the bodies, and the host exits 0 once head N
/// is canonical and the sync has stopped (which deletes the consumed skeleton headers).
/// <para>
/// Standard output is one event per line, <c>key=value</c> fields, written unbuffered (each line is in the pipe
/// before the host goes on, so a SIGKILL never loses a line that was printed):
/// <list type="bullet">
/// <item><c>start headers=N seed=S peers=K stored=none|HEAD:TAIL[,HEAD:TAIL...]</c> — the store is open; its progress.</item>
/// <item><c>request peer=ID origin=O count=C</c> — a peer was asked for C headers from O down, printed before it answers.</item>
/// <item><c>progress tail=T head=H subchains=C</c> — the newest subchain's tail moved; printed after the loop published
/// the snapshot, i.e. after the batch and progress were committed.</item>
/// <item><c>linked tail=T head=H requested=R</c> — linked to the genesis; R headers were requested by this process.</item>
/// <item>With --backfill: <c>start ... chain=H</c> gives the chain store's head at start; <c>bodies peer=ID
/// numbers=A-B[,C-D...]</c> — a peer was asked for the bodies of these blocks, printed before it answers;
/// <c>filled head=H</c> — blocks up to H are written and canonical (printed after the commit); <c>canonical head=H
/// skeleton=K</c> — done, the sync stopped, K headers left in the skeleton store.</item>
/// </list>
/// The sync's own warnings go to standard error. Exit codes: 0 linked, 1 failure, 2 bad arguments.
/// </para>
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (!HostArgs.TryParse(args, out var options, out var problem))
        {
            await Console.Error.WriteLineAsync($"synchost: {problem}; usage: --datadir DIR --headers N --seed S [--peers K] [--backfill]");
            return 2;
        }
        try
        {
            return options.Backfill ? await BackfillHost.RunAsync(options) : await RunAsync(options);
        }
        catch (StoreException e)
        {
            await Console.Error.WriteLineAsync($"synchost: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(HostArgs options)
    {
        var chain = GeneratedChain.Headers(options.Headers + 1, options.Seed);
        using var store = SkeletonStore.OpenInDataDir(options.DataDir);
        Print($"start headers={options.Headers} seed={options.Seed} peers={options.Peers} stored={Describe(store.LoadProgress())}");

        long requested = 0;
        var linked = new TaskCompletionSource<SkeletonSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        var peers = new PeerSet(TimeProvider.System);
        await using var sync = new SkeletonSync(store, peers, new NoBackfiller(), new GenesisOnly(chain[0]), TimeProvider.System, new StandardErrorLogger<SkeletonSync>());
        var lastTail = ulong.MaxValue;
        // Runs on the loop's task after each publish, so a printed tail is one the store has committed.
        sync.AfterEvent = snapshot =>
        {
            if (snapshot.Progress is { Subchains: [var newest, ..] } progress && newest.Tail != lastTail)
            {
                lastTail = newest.Tail;
                Print($"progress tail={newest.Tail} head={newest.Head} subchains={progress.Subchains.Count}");
            }
            if (snapshot.Linked)
            {
                linked.TrySetResult(snapshot);
            }
        };
        for (var i = 0; i < options.Peers; i++)
        {
            var id = $"peer{i}";
            sync.AddPeer(new InProcessPeer(id, chain)
            {
                OnRequest = (request, _) =>
                {
                    if (request.Kind == PeerRequestKind.HeadersReverse)
                    {
                        Interlocked.Add(ref requested, request.Count);
                        Print($"request peer={id} origin={request.Origin} count={request.Count}");
                    }
                    return Task.CompletedTask;
                },
            });
        }

        sync.Start();
        var outcome = await sync.SyncAsync(chain[(int)options.Headers], null, force: true);
        if (outcome != SyncRequestOutcome.Accepted)
        {
            await Console.Error.WriteLineAsync($"synchost: the forced head was refused ({outcome})");
            return 1;
        }
        var done = await linked.Task;
        var subchain = done.Progress!.Subchains[0];
        Print($"linked tail={subchain.Tail} head={subchain.Head} requested={Interlocked.Read(ref requested)}");
        return 0;
    }

    /// <summary>Console.Out flushes every line (AutoFlush), so a line is in the pipe when this returns.</summary>
    internal static void Print(string line) => Console.Out.WriteLine(line);

    internal static string Describe(SkeletonProgress? progress) =>
        progress is null or { Subchains.Count: 0 }
            ? "none"
            : string.Join(',', progress.Subchains.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Head}:{s.Tail}")));

    /// <summary>The local chain of a fresh node: the genesis only.</summary>
    private sealed class GenesisOnly(BlockHeader genesis) : IChainLink
    {
        public bool IsLinked(ulong number, Hash256 hash) => number == 0 && hash == genesis.Hash;
    }

    /// <summary>No bodies are filled: the host measures the header sync alone.</summary>
    private sealed class NoBackfiller : IBackfiller
    {
        public Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

        public void Resume()
        {
        }
    }

    /// <summary>Warnings and errors to standard error, so peer drops and store trouble show in a test's diagnostics.</summary>
    internal sealed class StandardErrorLogger<T> : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Console.Error.WriteLine($"{logLevel} {typeof(T).Name}: {formatter(state, exception)}");
            }
        }
    }
}

/// <summary>The host's arguments; every one is required except --peers and --backfill.</summary>
internal sealed record HostArgs(string DataDir, ulong Headers, ulong Seed, int Peers, bool Backfill = false)
{
    /// <summary>A few peers, so tasks run in parallel and deliveries arrive out of order, as on a real network.</summary>
    public const int DefaultPeers = 4;

    public static bool TryParse(string[] args, out HostArgs options, out string problem)
    {
        options = null!;
        string? dataDir = null;
        ulong? headers = null;
        ulong? seed = null;
        var peers = DefaultPeers;
        var backfill = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--backfill")
            {
                backfill = true;
                continue;
            }
            var value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null)
            {
                problem = $"{args[i]} needs a value";
                return false;
            }
            switch (args[i])
            {
                case "--datadir":
                    dataDir = value;
                    break;
                case "--headers" when ulong.TryParse(value, CultureInfo.InvariantCulture, out var n) && n is > 0 and < int.MaxValue:
                    headers = n;
                    break;
                case "--seed" when ulong.TryParse(value, CultureInfo.InvariantCulture, out var s):
                    seed = s;
                    break;
                case "--peers" when int.TryParse(value, CultureInfo.InvariantCulture, out var k) && k > 0:
                    peers = k;
                    break;
                default:
                    problem = $"unknown argument or bad value: {args[i]} {value}";
                    return false;
            }
            i++;
        }
        if (dataDir is null || headers is null || seed is null)
        {
            problem = "--datadir, --headers and --seed are required";
            return false;
        }
        options = new HostArgs(dataDir, headers.Value, seed.Value, peers, backfill);
        problem = "";
        return true;
    }
}
