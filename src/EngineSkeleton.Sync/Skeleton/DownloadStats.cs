namespace EngineSkeleton.Sync.Skeleton;

/// <summary>
/// Headers downloaded since the first forced head, and when the log last said so: the downloaded, rate and eta of
/// the progress line and of skeleton_status (geth's skeleton keeps the same as started, logged and pulled). Across
/// cycles, owned by the loop alone.
/// </summary>
internal sealed class DownloadStats(TimeProvider time)
{
    /// <summary>
    /// geth logs sync progress every 8 s; operators know that rhythm. A line is written sooner only when nothing is
    /// left to fetch, so the last one says so.
    /// </summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(8);

    private long _startedAt;
    private long _loggedAt;

    /// <summary>Headers consumed into the store (accepted batches), over every cycle.</summary>
    public ulong Pulled { get; private set; }

    /// <summary>Headers per second since <see cref="Start"/>; 0 before it.</summary>
    public double Rate => _startedAt == 0 ? 0 : Pulled / Math.Max(time.GetElapsedTime(_startedAt).TotalSeconds, 0.001);

    /// <summary>The first forced head: the rate is measured from here.</summary>
    public void Start() => _startedAt = time.GetTimestamp();

    public void Add(int headers) => Pulled += (ulong)headers;

    /// <summary>
    /// Whether a progress line is due with <paramref name="left"/> headers to go, and if so the eta; marks it written.
    /// </summary>
    public bool TryLog(ulong left, out TimeSpan eta)
    {
        eta = TimeSpan.Zero;
        if (time.GetElapsedTime(_loggedAt) < LogInterval && left != 0)
        {
            return false;
        }
        _loggedAt = time.GetTimestamp();
        if (Pulled != 0)
        {
            eta = TimeSpan.FromTicks((long)(time.GetElapsedTime(_startedAt).Ticks / (double)Pulled * left));
        }
        return true;
    }
}
