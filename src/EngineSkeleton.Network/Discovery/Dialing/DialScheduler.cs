using System.Net;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Enr;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.Discovery.Dialing;

/// <summary>What <see cref="DialScheduler.Offer"/> did with a candidate.</summary>
internal enum DialVerdict
{
    Queued,
    AlreadyQueued,
    Self,
    Connected,
    NetRestricted,
    NoEthEntry,
    IncompatibleFork,
    BackedOff,
    QueueFull,
}

/// <summary>How the scheduler bounds its dials; each default with its source.</summary>
/// <param name="MaxDialed">
/// Outbound connections of ours at once: geth dials up to MaxPeers / 3 (p2p/server.go maxDialedConns, dialRatio 3),
/// at least 1; inbound peers fill the rest.
/// </param>
/// <param name="NetRestrict">--netrestrict: only addresses in these networks are dialed; empty allows all.</param>
/// <param name="BackoffMin">
/// Wait before dialing again a node that failed or left: 30 s, about geth's dialHistoryExpiration (35 s); doubled at
/// each failure in a row up to <paramref name="BackoffMax"/>.
/// </param>
/// <param name="BackoffMax">Longest wait: 10 min.</param>
/// <param name="MaxQueued">Candidates waiting for a dial slot: 512; past it new ones are dropped (discovery offers them again).</param>
internal sealed record DialSchedulerOptions(
    int MaxDialed,
    IReadOnlyList<IPNetwork> NetRestrict,
    TimeSpan BackoffMin,
    TimeSpan BackoffMax,
    int MaxQueued = 512)
{
    public static int DialedShare(int maxPeers) => Math.Max(1, maxPeers / 3);

    public static DialSchedulerOptions For(int maxPeers, IReadOnlyList<IPNetwork> netRestrict) =>
        new(DialedShare(maxPeers), netRestrict, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10));
}

/// <summary>
/// Dials the candidates discovery and DNS lists offer (geth's p2p/dial.go in short): a candidate whose record
/// carries an eth fork id our chain does not accept, or carries no eth entry at all, is not dialed (geth's
/// eth.NewNodeFilter); nor one outside --netrestrict, already connected, ourselves, or backing off after a failure.
/// At most <see cref="DialSchedulerOptions.MaxDialed"/> dials (each held for its session's life) run at once. A
/// candidate without a record (a node that does not answer ENRRequest) is dialed; its eth Status is checked at the
/// handshake as every peer's is.
/// </summary>
internal sealed partial class DialScheduler : IAsyncDisposable
{
    private readonly DialSchedulerOptions _options;
    private readonly NodeId _self;
    private readonly Func<DialCandidate, CancellationToken, Task<bool>> _dial;
    private readonly Func<ForkId, ForkIdCheck>? _forkCheck;
    private readonly Func<NodeId, bool> _isConnected;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly LinkedList<DialCandidate> _queue = new();
    private readonly HashSet<NodeId> _queued = [];
    private readonly HashSet<NodeId> _dialing = [];
    private readonly Dictionary<NodeId, Backoff> _backoff = [];
    private readonly Dictionary<NodeId, DialSource> _sources = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _disposed;

    public DialScheduler(
        DialSchedulerOptions options,
        NodeId self,
        Func<DialCandidate, CancellationToken, Task<bool>> dial,
        Func<ForkId, ForkIdCheck>? forkCheck,
        Func<NodeId, bool> isConnected,
        TimeProvider time,
        ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dial);
        ArgumentNullException.ThrowIfNull(isConnected);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxDialed, 1);
        _options = options;
        _self = self;
        _dial = dial;
        _forkCheck = forkCheck;
        _isConnected = isConnected;
        _time = time;
        _logger = logger;
    }

    /// <summary>Dials running now (each counts until its session ends).</summary>
    public int Dialing
    {
        get
        {
            lock (_gate)
            {
                return _dialing.Count;
            }
        }
    }

    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>How the node was found, for the nodes this scheduler dialed; null for others (inbound, static).</summary>
    public DialSource? SourceOf(NodeId id)
    {
        lock (_gate)
        {
            return _sources.TryGetValue(id, out var source) ? source : null;
        }
    }

    /// <summary>As <see cref="SourceOf(NodeId)"/>, by the short id peers are listed by (the first 8 bytes in hex).</summary>
    public DialSource? SourceOf(string shortId)
    {
        lock (_gate)
        {
            foreach (var (id, source) in _sources)
            {
                if (id.ToShortString() == shortId)
                {
                    return source;
                }
            }
            return null;
        }
    }

    /// <summary>True while the scheduler has a free dial slot and nothing queued: discovery should look for more.</summary>
    public bool WantsCandidates
    {
        get
        {
            lock (_gate)
            {
                return _dialing.Count < _options.MaxDialed && _queue.Count == 0;
            }
        }
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _loop ??= Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Judges <paramref name="candidate"/> and queues it for a dial if it passes.</summary>
    public DialVerdict Offer(DialCandidate candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var verdict = Judge(candidate);
        if (verdict != DialVerdict.Queued)
        {
            Log.NotDialed(_logger, candidate.Id.ToShortString(), candidate.Source.ToString(), verdict.ToString());
            return verdict;
        }
        lock (_gate)
        {
            if (_queued.Contains(candidate.Id) || _dialing.Contains(candidate.Id))
            {
                return DialVerdict.AlreadyQueued;
            }
            if (_queue.Count >= _options.MaxQueued)
            {
                return DialVerdict.QueueFull;
            }
            _queue.AddLast(candidate);
            _queued.Add(candidate.Id);
        }
        _wake.Release();
        return DialVerdict.Queued;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        // Only the loop is waited for: a dial holds its task for its session's life, and sessions end with the
        // devp2p network, which closes them when it is disposed.
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // Stopped either way.
            }
        }
        _stop.Dispose();
        _wake.Dispose();
    }

    private DialVerdict Judge(DialCandidate candidate)
    {
        if (candidate.Id == _self)
        {
            return DialVerdict.Self;
        }
        if (_options.NetRestrict.Count > 0 && !_options.NetRestrict.Any(net => net.Contains(Normalize(candidate.Address))))
        {
            return DialVerdict.NetRestricted;
        }
        if (candidate.Record is { } record && FilterByFork(record) is { } forkVerdict)
        {
            return forkVerdict;
        }
        if (_isConnected(candidate.Id))
        {
            return DialVerdict.Connected;
        }
        lock (_gate)
        {
            if (_backoff.TryGetValue(candidate.Id, out var backoff) && _time.GetUtcNow() < backoff.Until)
            {
                return DialVerdict.BackedOff;
            }
        }
        return DialVerdict.Queued;
    }

    private DialVerdict? FilterByFork(EnrRecord record)
    {
        if (_forkCheck is null)
        {
            return null;
        }
        if (record.EthForkId is not { } forkId)
        {
            return DialVerdict.NoEthEntry;
        }
        var check = _forkCheck(forkId);
        if (!check.Accepted)
        {
            Log.IncompatibleFork(_logger, record.PublicKey.ToShortString(), forkId.ToString(), check.Reason);
            return DialVerdict.IncompatibleFork;
        }
        return null;
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            while (TryTake(out var candidate))
            {
                // Not awaited: a dial runs for its session's life and never throws (RunDialAsync catches).
                _ = Task.Run(() => RunDialAsync(candidate, ct), CancellationToken.None);
            }
            try
            {
                await _wake.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The next queued candidate that still passes, if a dial slot is free.</summary>
    private bool TryTake(out DialCandidate candidate)
    {
        lock (_gate)
        {
            while (_dialing.Count < _options.MaxDialed && _queue.First is { } first)
            {
                _queue.RemoveFirst();
                _queued.Remove(first.Value.Id);
                var now = _time.GetUtcNow();
                if ((_backoff.TryGetValue(first.Value.Id, out var backoff) && now < backoff.Until) || _isConnected(first.Value.Id))
                {
                    continue;
                }
                _dialing.Add(first.Value.Id);
                _sources[first.Value.Id] = first.Value.Source;
                candidate = first.Value;
                return true;
            }
        }
        candidate = null!;
        return false;
    }

    private async Task RunDialAsync(DialCandidate candidate, CancellationToken ct)
    {
        var joined = false;
        try
        {
            Log.Dialing(_logger, candidate.Id.ToShortString(), $"{candidate.Address}:{candidate.TcpPort}", candidate.Source.ToString());
            joined = await _dial(candidate, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.DialFailed(_logger, candidate.Id.ToShortString(), e.Message);
        }
        finally
        {
            lock (_gate)
            {
                _dialing.Remove(candidate.Id);
                var failures = joined ? 0 : (_backoff.TryGetValue(candidate.Id, out var previous) ? previous.Failures + 1 : 1);
                var wait = joined ? _options.BackoffMin : Min(_options.BackoffMin * Math.Pow(2, Math.Min(failures - 1, 16)), _options.BackoffMax);
                // Up to a fifth more, at random: two nodes that dialed each other at once (and so refused each other
                // as already connected) do not try again in step.
                wait += wait * (Random.Shared.NextDouble() / 5);
                _backoff[candidate.Id] = new Backoff(_time.GetUtcNow() + wait, failures);
                if (_backoff.Count > 4 * _options.MaxQueued)
                {
                    var now = _time.GetUtcNow();
                    foreach (var id in _backoff.Where(pair => pair.Value.Until <= now).Select(pair => pair.Key).ToList())
                    {
                        _backoff.Remove(id);
                    }
                }
                if (!joined)
                {
                    _sources.Remove(candidate.Id);
                }
            }
            if (!ct.IsCancellationRequested)
            {
                try
                {
                    _wake.Release();
                }
                catch (ObjectDisposedException)
                {
                    // Shutting down.
                }
            }
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private readonly record struct Backoff(DateTimeOffset Until, int Failures);

    private static partial class Log
    {
        [LoggerMessage(920, LogLevel.Debug, "Dialing discovered node id={Id} addr={Address} source={Source}")]
        public static partial void Dialing(ILogger logger, string id, string address, string source);

        [LoggerMessage(921, LogLevel.Trace, "Not dialing node id={Id} source={Source} reason={Reason}")]
        public static partial void NotDialed(ILogger logger, string id, string source, string reason);

        [LoggerMessage(922, LogLevel.Debug, "Not dialing node with incompatible fork id id={Id} forkid={ForkId} reason={Reason}")]
        public static partial void IncompatibleFork(ILogger logger, string id, string forkId, string reason);

        [LoggerMessage(923, LogLevel.Debug, "Dial failed id={Id} reason={Reason}")]
        public static partial void DialFailed(ILogger logger, string id, string reason);
    }
}
