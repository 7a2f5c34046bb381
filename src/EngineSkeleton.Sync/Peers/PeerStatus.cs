namespace EngineSkeleton.Sync.Peers;

/// <summary>What a peer's answers are measured for: headers and bodies load a node differently, so each has its own capacity.</summary>
internal enum RateKind
{
    Headers,
    Bodies,
}

/// <summary>
/// One peer as skeleton_status reports it. Capacities are items per second (moving averages, 0 after an answer
/// with nothing in it); <see cref="Timeout"/> is what its next request would be allowed.
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
    TimeSpan Timeout);
