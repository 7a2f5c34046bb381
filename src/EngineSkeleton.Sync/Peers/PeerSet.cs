namespace EngineSkeleton.Sync.Peers;

/// <summary>
/// The peers the sync may ask, with what each has served and how fast (go-ethereum's downloader peerSet and its
/// msgrate trackers, as one object). A peer has up to <see cref="ISyncPeer.MaxRequests"/> requests out at once and is
/// idle while it has room for another; a dropped peer keeps its entry,
/// with the reason, so status can say why it is gone. A peer found by the node (devp2p) is never handed out again
/// once dropped: it reconnects as a new peer. A peer the operator configured (<see cref="AddConfigured"/>,
/// --sync.rpc) has no other way back, so it is re-admitted after a backoff, as geth re-dials its static peers:
/// longer for one that lied than for one that timed out (<see cref="ReadmitAfter"/>), its answers checked as always.
/// Peers are keyed by <see cref="ISyncPeer.Id"/>.
/// <para>
/// One lock guards everything; no method waits or calls out while holding it. The clock only paces re-tuning:
/// once per set-wide round trip the confidence climbs half the way back to 1, as geth's tune does, so timeouts
/// tighten as the estimates settle.
/// </para>
/// </summary>
public sealed class PeerSet(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _peers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? throw new ArgumentNullException(nameof(time));

    // Set-wide estimates (msgrate's Trackers): confidence in the round trips, the reference round trip that paces
    // re-tuning, and when it last happened.
    private double _confidence = 1;
    private TimeSpan _roundTrip = MessageRate.RoundTripMax;
    private long _tunedAt = time.GetTimestamp();

    /// <summary>
    /// First re-admission of a configured peer that timed out or failed in transit: a node restarting, or loaded for
    /// a moment, is usually back within half a minute (geth re-dials a static peer after ~30 s, its dial history expiry).
    /// </summary>
    public static readonly TimeSpan FirstReadmitUnresponsive = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait for a configured peer that keeps timing out: it is tried every 5 minutes.</summary>
    public static readonly TimeSpan MaxReadmitUnresponsive = TimeSpan.FromMinutes(5);

    /// <summary>
    /// First re-admission of a configured peer that served wrong data (unlinked headers, bodies that break their
    /// roots): a node that lied may be mid-reorg or broken; ten minutes keeps it from costing more than a request
    /// now and then, and its answers are checked as always when it is back.
    /// </summary>
    public static readonly TimeSpan FirstReadmitMisbehaved = TimeSpan.FromMinutes(10);

    /// <summary>The longest wait for a configured peer that keeps lying: once an hour.</summary>
    public static readonly TimeSpan MaxReadmitMisbehaved = TimeSpan.FromHours(1);

    /// <summary>
    /// Raised (outside the lock) when a configured peer is back after its backoff: idle, with fresh estimates. The
    /// skeleton loop posts itself an event so idle peers take tasks and the backfiller resumes.
    /// </summary>
    public event Action<ISyncPeer>? Readmitted;

    /// <summary>Test hook: called (outside the lock) after a peer is dropped, with when it comes back (null: never).</summary>
    internal Action<ISyncPeer, DateTimeOffset?>? AfterDrop { get; set; }

    /// <summary>
    /// How long a configured peer dropped for the <paramref name="drops"/>-th time in a row waits to come back: from
    /// the first wait doubling each time, to the cap, by <paramref name="cause"/>.
    /// </summary>
    public static TimeSpan ReadmitAfter(DropCause cause, int drops)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(drops, 1);
        var (first, max) = cause == DropCause.Unresponsive
            ? (FirstReadmitUnresponsive, MaxReadmitUnresponsive)
            : (FirstReadmitMisbehaved, MaxReadmitMisbehaved);
        var wait = first * (1L << Math.Min(drops - 1, 16));
        return wait < max ? wait : max;
    }

    /// <summary>Peers registered and not dropped.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _peers.Values.Count(entry => !entry.Dropped);
            }
        }
    }

    /// <summary>
    /// Registers an idle peer. Its first round trip and capacities are the set's reference round trip and mean
    /// capacities, so it starts neither favoured nor shunned (geth's Register). A dropped peer with the same id is
    /// replaced with fresh statistics (it reconnected). False if a live peer with this id is registered.
    /// </summary>
    public bool Add(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            if (_peers.TryGetValue(peer.Id, out var existing) && !existing.Dropped)
            {
                return false;
            }
            _peers.Remove(peer.Id);
            var live = LiveEntries();
            var entry = new Entry(peer)
            {
                RoundTrip = MessageRate.ReferenceRoundTrip([.. live.Select(e => e.RoundTrip)]),
                HeaderCapacity = live.Count == 0 ? 0 : live.Average(e => e.HeaderCapacity),
                BodyCapacity = live.Count == 0 ? 0 : live.Average(e => e.BodyCapacity),
            };
            _peers.Add(peer.Id, entry);
            _confidence = MessageRate.Detuned(_confidence, live.Count + 1);
            return true;
        }
    }

    /// <summary>
    /// Registers a peer the operator configured (--sync.rpc): like <see cref="Add"/>, but a drop only benches it for a
    /// while (<see cref="ReadmitAfter"/>), since nothing else would bring it back before a restart.
    /// </summary>
    public bool AddConfigured(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            if (!Add(peer))
            {
                return false;
            }
            _peers[peer.Id].Configured = true;
            return true;
        }
    }

    /// <summary>Forgets the peer (it disconnected), dropped or not. False if it was not registered.</summary>
    public bool Remove(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            if (_peers.Remove(peer.Id, out var entry))
            {
                entry.ReadmitTimer?.Dispose();
                return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Marks the peer dropped for <paramref name="reason"/>, as one that served wrong data
    /// (<see cref="DropCause.Misbehaved"/>): see the overload.
    /// </summary>
    public bool Drop(ISyncPeer peer, string reason) => Drop(peer, reason, DropCause.Misbehaved);

    /// <summary>
    /// Marks the peer dropped for <paramref name="reason"/>: it is no longer idle, busy or handed out, and status
    /// shows the reason; the peer hears of it (<see cref="ISyncPeer.OnDropped"/>: a devp2p session is hung up). A
    /// configured peer comes back after <see cref="ReadmitAfter"/> for <paramref name="cause"/>.
    /// True if this call dropped it; false if unknown or already dropped (the first reason stays).
    /// </summary>
    public bool Drop(ISyncPeer peer, string reason, DropCause cause)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        DateTimeOffset? readmitAt = null;
        ISyncPeer registered;
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer.Id, out var entry) || entry.Dropped)
            {
                return false;
            }
            registered = entry.Peer;
            entry.DropReason = reason;
            entry.DropCause = cause;
            entry.InFlight = 0;
            if (entry.Configured)
            {
                entry.DropsInRow++;
                var wait = ReadmitAfter(cause, entry.DropsInRow);
                readmitAt = _time.GetUtcNow() + wait;
                entry.ReadmitAt = readmitAt;
                entry.ReadmitTimer?.Dispose();
                entry.ReadmitTimer = _time.CreateTimer(static state => ((Readmission)state!).Run(), new Readmission(this, entry), wait, Timeout.InfiniteTimeSpan);
            }
        }
        registered.OnDropped(reason, cause);
        AfterDrop?.Invoke(peer, readmitAt);
        return true;
    }

    /// <summary>A configured peer's backoff is over: back in the set, idle, with fresh estimates as at its first Add.</summary>
    private void Readmit(Entry entry)
    {
        lock (_lock)
        {
            if (!entry.Dropped || !_peers.TryGetValue(entry.Peer.Id, out var current) || !ReferenceEquals(current, entry))
            {
                return; // removed, or replaced by a reconnect, meanwhile
            }
            var live = LiveEntries();
            entry.DropReason = null;
            entry.ReadmitAt = null;
            entry.ReadmitTimer?.Dispose();
            entry.ReadmitTimer = null;
            entry.Readmissions++;
            entry.RoundTrip = MessageRate.ReferenceRoundTrip([.. live.Select(e => e.RoundTrip)]);
            entry.HeaderCapacity = live.Count == 0 ? 0 : live.Average(e => e.HeaderCapacity);
            entry.BodyCapacity = live.Count == 0 ? 0 : live.Average(e => e.BodyCapacity);
            _confidence = MessageRate.Detuned(_confidence, live.Count + 1);
        }
        Readmitted?.Invoke(entry.Peer);
    }

    private sealed record Readmission(PeerSet Set, Entry Entry)
    {
        public void Run() => Set.Readmit(Entry);
    }

    /// <summary>
    /// Live peers with room for another request, each once, highest header capacity first (geth's assignTasks sorts
    /// idlers so); ties go to the shorter round trip, then to the id, so the order is the same on every run.
    /// </summary>
    public IReadOnlyList<ISyncPeer> IdlePeersFastestFirst()
    {
        lock (_lock)
        {
            var idle = IdleEntries();
            return [.. idle.Select(entry => entry.Peer)];
        }
    }

    /// <summary>
    /// Every free request slot of the live peers, in rounds: each idle peer once, fastest first (as
    /// <see cref="IdlePeersFastestFirst"/>), then those with a second free slot, and so on. Handing tasks out in this
    /// order gives every peer its first request before any peer its second, so a fast peer's pipeline never starves a
    /// slower peer of work.
    /// </summary>
    public IReadOnlyList<ISyncPeer> FreeSlotsFastestFirst()
    {
        lock (_lock)
        {
            var idle = IdleEntries();
            var slots = new List<ISyncPeer>(idle.Count);
            for (var round = 0; idle.Count > 0; round++)
            {
                foreach (var entry in idle)
                {
                    slots.Add(entry.Peer);
                }
                idle.RemoveAll(entry => entry.InFlight + round + 1 >= entry.MaxRequests);
            }
            return slots;
        }
    }

    /// <summary>
    /// Hands the peer a request. True if it was live and had room for another (<see cref="ISyncPeer.MaxRequests"/>);
    /// false if its requests are all out, or it is dropped or unknown.
    /// </summary>
    public bool MarkBusy(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer.Id, out var entry) || entry.Dropped || entry.InFlight >= entry.MaxRequests)
            {
                return false;
            }
            entry.InFlight++;
            return true;
        }
    }

    /// <summary>One of the peer's requests is over. True if it had one out and is live; false otherwise (nothing changes).</summary>
    public bool MarkIdle(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer.Id, out var entry) || entry.Dropped || entry.InFlight == 0)
            {
                return false;
            }
            entry.InFlight--;
            return true;
        }
    }

    /// <summary>
    /// Records an answer of <paramref name="items"/> that took <paramref name="elapsed"/>: adds to what the peer
    /// served and moves its estimates. Report a timeout or an empty answer as 0 items: the capacity drops to zero
    /// and the round trip stays. Unknown peers are ignored (an answer racing its peer's removal).
    /// </summary>
    internal void Update(ISyncPeer peer, int items, TimeSpan elapsed, RateKind kind = RateKind.Headers)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer.Id, out var entry))
            {
                return;
            }
            if (kind == RateKind.Headers)
            {
                entry.ServedHeaders += (ulong)items;
                entry.HeaderCapacity = MessageRate.NextCapacity(entry.HeaderCapacity, items, elapsed);
            }
            else
            {
                entry.ServedBodies += (ulong)items;
                entry.BodyCapacity = MessageRate.NextCapacity(entry.BodyCapacity, items, elapsed);
            }
            entry.RoundTrip = MessageRate.NextRoundTrip(entry.RoundTrip, items, elapsed);
            if (items > 0)
            {
                entry.DropsInRow = 0; // it serves again: a later drop starts its backoff from the first wait
                entry.Measured[entry.MeasuredCount++ % entry.Measured.Length] = elapsed;
            }
            TuneIfDue();
        }
    }

    /// <summary>
    /// How long the peer's next request may take: three of its round trips over the set's confidence, between
    /// 6 s and 60 s (<see cref="MessageRate.Timeout"/>). An unknown peer gets the cap.
    /// </summary>
    public TimeSpan TimeoutFor(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            TuneIfDue();
            return _peers.TryGetValue(peer.Id, out var entry)
                ? MessageRate.Timeout(entry.RoundTrip, _confidence)
                : MessageRate.TimeoutCap;
        }
    }

    /// <summary>Every registered peer, dropped ones included, ordered by id.</summary>
    public IReadOnlyList<PeerStatus> Status()
    {
        lock (_lock)
        {
            TuneIfDue();
            var status = new List<PeerStatus>(_peers.Count);
            foreach (var entry in _peers.Values)
            {
                status.Add(new PeerStatus(
                    entry.Peer.Id,
                    entry.ServedHeaders,
                    entry.ServedBodies,
                    entry.InFlight > 0,
                    entry.Dropped,
                    entry.DropReason,
                    entry.RoundTrip,
                    entry.HeaderCapacity,
                    entry.BodyCapacity,
                    MessageRate.Timeout(entry.RoundTrip, _confidence))
                {
                    MeasuredRoundTrip = entry.MeasuredMedian(),
                    Configured = entry.Configured,
                    DropCause = entry.Dropped ? entry.DropCause : null,
                    ReadmitAt = entry.ReadmitAt,
                    Readmissions = entry.Readmissions,
                    Requests = entry.InFlight,
                    MaxRequests = entry.MaxRequests,
                });
            }
            status.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
            return status;
        }
    }

    private static int FastestFirst(Entry a, Entry b)
    {
        var byCapacity = b.HeaderCapacity.CompareTo(a.HeaderCapacity);
        if (byCapacity != 0)
        {
            return byCapacity;
        }
        var byRoundTrip = a.RoundTrip.CompareTo(b.RoundTrip);
        return byRoundTrip != 0 ? byRoundTrip : string.CompareOrdinal(a.Peer.Id, b.Peer.Id);
    }

    /// <summary>Under the lock: live peers with room for a request, fastest first.</summary>
    private List<Entry> IdleEntries()
    {
        var idle = new List<Entry>(_peers.Count);
        foreach (var entry in _peers.Values)
        {
            if (!entry.Dropped && entry.InFlight < entry.MaxRequests)
            {
                idle.Add(entry);
            }
        }
        idle.Sort(FastestFirst);
        return idle;
    }

    private List<Entry> LiveEntries() => [.. _peers.Values.Where(entry => !entry.Dropped)];

    /// <summary>Once per set-wide round trip: pull it toward the peers' reference round trip and regain confidence.</summary>
    private void TuneIfDue()
    {
        if (_time.GetElapsedTime(_tunedAt) <= _roundTrip)
        {
            return;
        }
        var reference = MessageRate.ReferenceRoundTrip([.. LiveEntries().Select(e => e.RoundTrip)]);
        _roundTrip = TimeSpan.FromTicks((long)Math.Round(MessageRate.Blend(_roundTrip.Ticks, reference.Ticks, MessageRate.TuningImpact)));
        _confidence = MessageRate.Tuned(_confidence);
        _tunedAt = _time.GetTimestamp();
    }

    private sealed class Entry(ISyncPeer peer)
    {
        public ISyncPeer Peer { get; } = peer;

        public ulong ServedHeaders { get; set; }

        public ulong ServedBodies { get; set; }

        /// <summary>Requests out now: from 0 to <see cref="MaxRequests"/>.</summary>
        public int InFlight { get; set; }

        /// <summary>The peer's <see cref="ISyncPeer.MaxRequests"/>, read once (at least 1).</summary>
        public int MaxRequests { get; } = Math.Max(1, peer.MaxRequests);

        public string? DropReason { get; set; }

        public bool Dropped => DropReason is not null;

        public DropCause DropCause { get; set; }

        /// <summary>Configured by the operator: re-admitted after a drop.</summary>
        public bool Configured { get; set; }

        /// <summary>Drops since it last served: the backoff's exponent.</summary>
        public int DropsInRow { get; set; }

        public DateTimeOffset? ReadmitAt { get; set; }

        public ITimer? ReadmitTimer { get; set; }

        public int Readmissions { get; set; }

        public TimeSpan RoundTrip { get; set; }

        public double HeaderCapacity { get; set; }

        public double BodyCapacity { get; set; }

        /// <summary>
        /// The last answers' own round trips. The estimate above starts from the set's reference and moves a tenth of the
        /// way each answer (geth's msgrate), so for a while it says more about its start than about the peer; an operator
        /// reading skeleton_status wants what the peer did.
        /// </summary>
        public TimeSpan[] Measured { get; } = new TimeSpan[MeasuredAnswers];

        public int MeasuredCount { get; set; }

        public TimeSpan? MeasuredMedian()
        {
            var count = Math.Min(MeasuredCount, Measured.Length);
            if (count == 0)
            {
                return null;
            }
            var recent = Measured[..count];
            Array.Sort(recent);
            return recent[count / 2];
        }
    }

    /// <summary>Answers whose round trips the status's median is taken over: a minute of answers at a few a second.</summary>
    private const int MeasuredAnswers = 16;
}
