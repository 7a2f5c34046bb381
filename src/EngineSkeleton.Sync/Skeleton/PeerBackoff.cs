using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Sync.Skeleton;

/// <summary>A peer the skeleton leaves alone until <see cref="Until"/>, after <see cref="Strikes"/> empty answers in a row.</summary>
internal sealed record PeerRest(string Id, int Strikes, DateTimeOffset Until);

/// <summary>
/// How long a peer that just answered a header task empty rests before the skeleton asks it again. geth's skeleton
/// re-asks an idle peer at once; with a lone peer that lacks the range (or every peer refusing) that is a request
/// per loop turn, as fast as the peer can say no. Here each empty answer in a row doubles the rest, from
/// <see cref="FirstRest"/> up to <see cref="MaxRest"/>; an answer with headers ends the streak. Other peers are
/// unaffected, so a task a resting peer lacks goes to any other idle one at once.
/// Owned by the skeleton loop (no lock); the clock is the loop's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class PeerBackoff(TimeProvider time)
{
    /// <summary>
    /// The rest after a first empty answer: short, because an honest peer may only be a few blocks behind or
    /// between two imports, and one request a second costs a peer nothing.
    /// </summary>
    public static readonly TimeSpan FirstRest = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The longest rest: one beacon slot (12 s). A peer behind us gains at most a block a slot, so asking more often
    /// learns nothing; asking less often would leave a lone lagging peer idle after it has caught up.
    /// </summary>
    public static readonly TimeSpan MaxRest = TimeSpan.FromSeconds(12);

    private readonly Dictionary<string, PeerRest> _rests = new(StringComparer.Ordinal);

    /// <summary>The rest after <paramref name="strikes"/> empty answers in a row: 0.5 s, 1 s, 2 s, … capped at 12 s.</summary>
    public static TimeSpan RestAfter(int strikes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(strikes, 1);
        var doublings = Math.Min(strikes - 1, 16); // 0.5 s × 2^16 is far past the cap; no overflow
        var rest = FirstRest * (1L << doublings);
        return rest < MaxRest ? rest : MaxRest;
    }

    /// <summary>The peer answered empty: it rests, longer than last time. Returns the rest.</summary>
    public PeerRest Strike(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var strikes = _rests.TryGetValue(peer.Id, out var last) ? last.Strikes + 1 : 1;
        var rest = new PeerRest(peer.Id, strikes, time.GetUtcNow() + RestAfter(strikes));
        _rests[peer.Id] = rest;
        return rest;
    }

    /// <summary>The peer served headers: its streak of empty answers is over.</summary>
    public void Clear(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        _rests.Remove(peer.Id);
    }

    /// <summary>Whether the peer is still resting now.</summary>
    public bool IsResting(ISyncPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _rests.TryGetValue(peer.Id, out var rest) && rest.Until > time.GetUtcNow();
    }

    /// <summary>How long until the first rest still running ends; null if no peer rests.</summary>
    public TimeSpan? NextWake()
    {
        var now = time.GetUtcNow();
        TimeSpan? next = null;
        foreach (var rest in _rests.Values)
        {
            var left = rest.Until - now;
            if (left > TimeSpan.Zero && (next is null || left < next))
            {
                next = left;
            }
        }
        return next;
    }

    /// <summary>
    /// Ends every rest now but keeps the streaks (the stall watchdog's retry): each peer is asked once more, and one
    /// that still answers empty rests as long as before.
    /// </summary>
    public void EndRests()
    {
        var now = time.GetUtcNow();
        foreach (var rest in _rests.Values.ToList())
        {
            _rests[rest.Id] = rest with { Until = now };
        }
    }

    /// <summary>Rests still running, by peer id, for skeleton_status.</summary>
    public IReadOnlyList<PeerRest> Running()
    {
        if (_rests.Count == 0)
        {
            return [];
        }
        var now = time.GetUtcNow();
        var running = _rests.Values.Where(rest => rest.Until > now).ToList();
        running.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return running;
    }
}
