using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Testing.Peers;

/// <summary>
/// A peer in the same process serving a chain given as a list indexed by number (e.g. a
/// <see cref="GeneratedChain"/>), for tests and benchmarks. It answers as an honest eth/68 node would — a peer
/// behind the asked range answers nothing, answers are capped at <see cref="MaxHeadersPerAnswer"/> — unless
/// <see cref="Faults"/> says otherwise, and <see cref="OnRequest"/> lets a test see or hold every request. Waits
/// use the given TimeProvider and the caller's cancellation, never the wall clock. An answer costs work
/// proportional to its size only, so it can serve a million-header sync.
/// </summary>
public sealed class InProcessPeer : ISyncPeer
{
    /// <summary>geth serves at most 1,024 headers per request (eth/protocols/eth maxHeadersServe).</summary>
    public const int DefaultMaxHeadersPerAnswer = 1024;

    private readonly IReadOnlyList<BlockHeader> _chain;
    private readonly IReadOnlyList<BlockBody?>? _bodies;
    private readonly TimeProvider _time;

    // Hash → number, filled from the head down as lookups need it: by-hash questions are about recent blocks.
    private readonly Lock _indexLock = new();
    private readonly Dictionary<Hash256, ulong> _numbers = [];
    private long _nextToIndex;

    private PeerFaults _faults = PeerFaults.None;
    private long _requests;
    private long _headersServed;
    private long _bodiesServed;

    /// <param name="id">The peer's id.</param>
    /// <param name="chain">Headers by number, index 0 the genesis.</param>
    /// <param name="bodies">Bodies by number (null where missing); none at all if null.</param>
    /// <param name="time">The clock for <see cref="PeerFaults.Delay"/> and <see cref="PeerFaults.Silent"/>; the system clock if null.</param>
    public InProcessPeer(string id, IReadOnlyList<BlockHeader> chain, IReadOnlyList<BlockBody?>? bodies = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentOutOfRangeException.ThrowIfZero(chain.Count);
        // The ends are checked, not every header: a lazy million-header list would be built in full.
        if (chain[0].Number != 0 || chain[^1].Number != (ulong)(chain.Count - 1))
        {
            throw new ArgumentException("the chain must be indexed by number, starting at the genesis", nameof(chain));
        }
        if (bodies is not null && bodies.Count != chain.Count)
        {
            throw new ArgumentException($"{bodies.Count} bodies for {chain.Count} headers", nameof(bodies));
        }
        Id = id;
        _chain = chain;
        _bodies = bodies;
        _time = time ?? TimeProvider.System;
        _nextToIndex = chain.Count - 1;
    }

    public string Id { get; }

    /// <summary>The chain served, by number.</summary>
    public IReadOnlyList<BlockHeader> Chain => _chain;

    /// <summary>The current misbehaviour; replaced whole, read once per request.</summary>
    public PeerFaults Faults
    {
        get => Volatile.Read(ref _faults);
        set => Volatile.Write(ref _faults, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>
    /// Awaited at the start of every request, after it is counted and before any fault applies: a test observes
    /// requests here, or holds one until it completes the returned task.
    /// </summary>
    public Func<PeerRequest, CancellationToken, Task>? OnRequest { get; set; }

    /// <summary>The most headers one answer carries (a duplicated header comes on top).</summary>
    public int MaxHeadersPerAnswer { get; init; } = DefaultMaxHeadersPerAnswer;

    /// <summary>Requests received, of every kind, whether answered or not.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Headers in answers given (duplicates and altered headers included).</summary>
    public long HeadersServed => Interlocked.Read(ref _headersServed);

    /// <summary>Bodies in answers given (not counting the nulls for missing ones).</summary>
    public long BodiesServed => Interlocked.Read(ref _bodiesServed);

    public async Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
    {
        var faults = await BeginAsync(new PeerRequest(PeerRequestKind.HeadersReverse, origin, count, []), cancellationToken);
        if (faults.Empty || count <= 0 || origin >= (ulong)_chain.Count)
        {
            return [];
        }
        var served = (ulong)Math.Min(count, MaxHeadersPerAnswer);
        served = Math.Min(served, origin + 1);
        if (faults.WithholdAt is { } withheld && withheld <= origin && origin - withheld < served)
        {
            served = origin - withheld;
        }
        var headers = new List<BlockHeader>((int)served + 1);
        for (var i = 0UL; i < served; i++)
        {
            var number = origin - i;
            var header = Serve(number, faults);
            headers.Add(header);
            if (faults.DuplicateAt == number)
            {
                headers.Add(header);
            }
        }
        Interlocked.Add(ref _headersServed, headers.Count);
        return headers;
    }

    public async Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken)
    {
        var faults = await BeginAsync(new PeerRequest(PeerRequestKind.HeaderByHash, 0, 1, [hash]), cancellationToken);
        if (faults.Empty || NumberOf(hash) is not { } number || faults.WithholdAt == number)
        {
            return null;
        }
        Interlocked.Increment(ref _headersServed);
        return Serve(number, faults);
    }

    public async Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var faults = await BeginAsync(new PeerRequest(PeerRequestKind.Bodies, 0, hashes.Count, hashes), cancellationToken);
        if (faults.Empty)
        {
            return [];
        }
        var bodies = new BlockBody?[hashes.Count];
        var found = 0;
        for (var i = 0; i < hashes.Count; i++)
        {
            if (_bodies is not null && NumberOf(hashes[i]) is { } number && faults.WithholdAt != number)
            {
                bodies[i] = _bodies[(int)number] is { } body && faults.CorruptBodyAt == number ? Corrupt(body) : _bodies[(int)number];
                found += bodies[i] is null ? 0 : 1;
            }
        }
        Interlocked.Add(ref _bodiesServed, found);
        return bodies;
    }

    /// <summary>Counts the request, runs the hook, then the faults that delay or refuse every answer.</summary>
    private async Task<PeerFaults> BeginAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        var faults = Faults;
        cancellationToken.ThrowIfCancellationRequested();
        if (OnRequest is { } hook)
        {
            await hook(request, cancellationToken);
        }
        if (faults.Silent)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken);
        }
        if (faults.Gate is { } gate)
        {
            await gate.WaitAsync(cancellationToken);
        }
        if (faults.Delay > TimeSpan.Zero)
        {
            await Task.Delay(faults.Delay, _time, cancellationToken);
        }
        return faults.Garbage
            ? throw new PeerException($"peer {Id}: undecodable answer to {request.Kind}")
            : faults;
    }

    private BlockHeader Serve(ulong number, PeerFaults faults)
    {
        var header = _chain[(int)number];
        return faults.ChangeAt == number ? header with { ExtraData = [.. header.ExtraData, 0xff] } : header;
    }

    /// <summary>
    /// The body with one more transaction: an empty legacy one (nine empty fields), well-formed, never committed to.
    /// </summary>
    private static BlockBody Corrupt(BlockBody body) =>
        body with { Transactions = [.. body.Transactions, [0xc9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]] };

    /// <summary>The number of the block with this hash on the served chain, indexing down from the head as far as needed.</summary>
    private ulong? NumberOf(Hash256 hash)
    {
        lock (_indexLock)
        {
            if (_numbers.TryGetValue(hash, out var known))
            {
                return known;
            }
            while (_nextToIndex >= 0)
            {
                var number = (ulong)_nextToIndex--;
                var indexed = _chain[(int)number].Hash;
                _numbers[indexed] = number;
                if (indexed == hash)
                {
                    return number;
                }
            }
            return null;
        }
    }
}
