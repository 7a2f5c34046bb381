namespace EngineSkeleton.Sync.Peers;

/// <summary>What a peer's answers are measured for: headers and bodies load a node differently, so each has its own capacity.</summary>
internal enum RateKind
{
    Headers,
    Bodies,
}

/// <summary>
/// One peer as skeleton_status reports it. Capacities are items per second (moving averages, 0 after an answer
/// with nothing in it); <see cref="RoundTrip"/> is the estimator's (geth's msgrate, which timeouts are made from) and
/// <see cref="MeasuredRoundTrip"/> what the peer's answers took; <see cref="Timeout"/> is what its next request would be allowed.
/// </summary>
public sealed record PeerStatus(
    string Id,
    ulong ServedHeaders,
    ulong ServedBodies,
    bool Busy,
    bool Dropped,
    string? DropReason,
    TimeSpan RoundTrip,
    double HeaderCapacity,
    double BodyCapacity,
    TimeSpan Timeout)
{
    /// <summary>The median round trip of the peer's last answers that carried items; null before its first.</summary>
    public TimeSpan? MeasuredRoundTrip { get; init; }

    /// <summary>The operator configured it (--sync.rpc): re-admitted after a drop.</summary>
    public bool Configured { get; init; }

    /// <summary>While dropped: whether it timed out or served wrong data.</summary>
    public DropCause? DropCause { get; init; }

    /// <summary>While a dropped configured peer waits out its backoff: when it comes back.</summary>
    public DateTimeOffset? ReadmitAt { get; init; }

    /// <summary>How many times it came back after a drop.</summary>
    public int Readmissions { get; init; }

    /// <summary>Requests out to it now (<see cref="Busy"/> while above 0).</summary>
    public int Requests { get; init; }

    /// <summary>How many requests it may have out at once (<see cref="ISyncPeer.MaxRequests"/>).</summary>
    public int MaxRequests { get; init; } = 1;
}

/// <summary>Why a peer was dropped, which sets how long a configured peer waits to come back (<see cref="PeerSet.ReadmitAfter"/>).</summary>
public enum DropCause
{
    /// <summary>It served wrong data: headers that do not link, bodies that break their roots, a protocol breach.</summary>
    Misbehaved,

    /// <summary>It did not answer in time, or the request failed in transit (connection refused, HTTP 5xx).</summary>
    Unresponsive,
}
