using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Peers;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Sync.Tests.Skeleton;

/// <summary>
/// The local chain as a canonical number → hash map, starting with the genesis alone. Read and written on the
/// skeleton loop's task only (IsLinked, and the backfiller's Resume), so no lock.
/// </summary>
internal sealed class CanonicalMap : IChainLink
{
    private readonly Dictionary<ulong, Hash256> _canonical = [];

    public CanonicalMap(BlockHeader genesis)
    {
        _canonical[0] = genesis.Hash;
        AnchorHash = genesis.Hash;
    }

    public Hash256? AnchorHash { get; }

    public bool IsLinked(ulong number, Hash256 hash) => _canonical.TryGetValue(number, out var canonical) && canonical == hash;

    public void MakeCanonical(BlockHeader header) => _canonical[header.Number] = header.Hash;
}

/// <summary>A backfiller that never fills: suspending reports nothing filled.</summary>
internal sealed class IdleBackfiller : IBackfiller
{
    public Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

    public void Resume()
    {
    }
}

/// <summary>
/// geth's "fill" test backfiller: on resume it makes the newest subchain canonical at once, from its tail up to its
/// head, and reports the head as filled at the next suspend (the skeleton then deletes the consumed headers).
/// </summary>
internal sealed class FillingBackfiller(SkeletonStore store, CanonicalMap local) : IBackfiller
{
    private BlockHeader? _filled;

    public Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken)
    {
        var filled = _filled;
        _filled = null;
        return Task.FromResult(filled);
    }

    public void Resume()
    {
        var newest = store.LoadProgress()!.Subchains[0];
        for (var number = newest.Tail; number <= newest.Head; number++)
        {
            var header = store.GetHeader(number) ?? throw new InvalidOperationException($"skeleton header #{number} missing under a linked subchain");
            local.MakeCanonical(header);
            _filled = header;
        }
    }
}

/// <summary>
/// An <see cref="InProcessPeer"/> whose headers are served as they are and whose bodies a test alters or holds back:
/// the peer that lies about bodies, which only the bodies' roots can catch.
/// </summary>
internal abstract class BodiesAlteringPeer(InProcessPeer inner, string id) : ISyncPeer
{
    public string Id => id;

    protected InProcessPeer Inner => inner;

    public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken) =>
        inner.GetHeadersReverseAsync(origin, count, cancellationToken);

    public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) =>
        inner.GetHeaderByHashAsync(hash, cancellationToken);

    public abstract Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken);
}

/// <summary>
/// An <see cref="InProcessPeer"/> as the engine sees it, counting requests in flight: the peer set hands a peer
/// one request at a time, so <see cref="MostInFlight"/> must stay at 1.
/// </summary>
internal sealed class TrackedPeer(InProcessPeer inner) : ISyncPeer
{
    private int _inFlight;
    private int _mostInFlight;

    public InProcessPeer Inner => inner;

    public string Id => inner.Id;

    public int MostInFlight => Volatile.Read(ref _mostInFlight);

    public async Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
    {
        Enter();
        try
        {
            return await inner.GetHeadersReverseAsync(origin, count, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public async Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken)
    {
        Enter();
        try
        {
            return await inner.GetHeaderByHashAsync(hash, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
    {
        Enter();
        try
        {
            return await inner.GetBodiesAsync(hashes, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Enter()
    {
        var now = Interlocked.Increment(ref _inFlight);
        for (var most = Volatile.Read(ref _mostInFlight); now > most; most = Volatile.Read(ref _mostInFlight))
        {
            if (Interlocked.CompareExchange(ref _mostInFlight, now, most) == most)
            {
                break;
            }
        }
    }
}

/// <summary>
/// Waits on the snapshots the loop publishes after every event: a condition is checked on the latest one when
/// registered and on each new one, and its task completes once it holds. <c>onEvent</c> runs first, on the loop.
/// </summary>
internal sealed class SnapshotWatch(Action<SkeletonSnapshot>? onEvent = null)
{
    private readonly Lock _lock = new();
    private readonly List<(Func<SkeletonSnapshot, bool> Holds, TaskCompletionSource Done)> _waits = [];
    private SkeletonSnapshot _last = SkeletonSnapshot.Idle;

    public SkeletonSnapshot Last
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    public void Observe(SkeletonSnapshot snapshot)
    {
        onEvent?.Invoke(snapshot);
        lock (_lock)
        {
            _last = snapshot;
            _waits.RemoveAll(wait => wait.Holds(snapshot) && wait.Done.TrySetResult());
        }
    }

    public Task Until(Func<SkeletonSnapshot, bool> holds)
    {
        lock (_lock)
        {
            if (holds(_last))
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((holds, done));
            return done.Task;
        }
    }
}

/// <summary>A logger that keeps every entry, for tests that assert what an operator would read.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue((logLevel, eventId, formatter(state, exception)));
    }
}
