using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// How an <see cref="RpcSyncPeer"/> talks to a node's JSON-RPC endpoint. The defaults suit a node on the same host
/// or LAN; each says where it comes from. <see cref="Validate"/> runs once, when a peer is built.
/// </summary>
public sealed record RpcSyncPeerOptions
{
    public static readonly RpcSyncPeerOptions Default = new();

    /// <summary>
    /// Calls per JSON-RPC batch (one HTTP request). The skeleton asks for up to 512 headers at a time, so 128 makes
    /// four requests of ~75 KB of hex each; geth refuses batches over 1,000 calls (BatchRequestLimit) and answers
    /// over 25 MB (BatchResponseMaxSize), which 128 raw blocks of a busy chain can approach.
    /// </summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>
    /// Requests of the sync (a run of headers or bodies, each sent as its batches at once) outstanding at the node at
    /// once (<see cref="Sync.Peers.ISyncPeer.MaxRequests"/>): with two, the node serves one while the last answer is
    /// checked and written here. Each batch is an HTTP request on a connection of its own.
    /// </summary>
    public int MaxRequests { get; init; } = 2;

    /// <summary>
    /// How long one HTTP request (one batch, one attempt) may take, answer body included. A 128-header batch takes
    /// tens of milliseconds on a local node; 20 s leaves three attempts inside the skeleton's 60 s request cap.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Retries of a request that failed in transit (connection error, HTTP 5xx, <see cref="RequestTimeout"/>); never of
    /// an answer that arrived malformed, which a retry would only fetch again.
    /// </summary>
    public int Retries { get; init; } = 2;

    /// <summary>First retry delay; later ones grow exponentially, all with jitter so that peers do not retry in step.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Share of failed attempts within <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    /// <summary>
    /// Attempts the breaker must have seen in its window before it may open: two requests that each exhausted their
    /// retries (2 × 3 attempts) are enough to stop hammering a dead node.
    /// </summary>
    public int BreakerMinimumThroughput { get; init; } = 6;

    /// <summary>The window the breaker counts failures in (Polly's default).</summary>
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses requests before letting one through to test the node.</summary>
    public TimeSpan BreakerDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Largest answer body read, in bytes; a larger one fails the request. 128 MiB holds a batch of 128 raw blocks
    /// of ~0.5 MB each in hex; it bounds what a hostile endpoint can make us buffer.
    /// </summary>
    public long MaxResponseBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>
    /// Our genesis hash: a node whose block 0 has another hash serves another chain and is refused at its first
    /// contact, both hashes named. Null skips the check (a node anchored at a checkpoint, whose genesis it never asks).
    /// </summary>
    public Hash256? ExpectedGenesis { get; init; }

    /// <summary>
    /// Our chain id: a node whose <c>eth_chainId</c> differs is refused at its first contact. Null skips the check, as
    /// does a node that does not serve <c>eth_chainId</c>.
    /// </summary>
    public ulong? ExpectedChainId { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        Require(BatchSize is >= 1 and <= 1_000, nameof(BatchSize), BatchSize, "1 to 1,000 (geth's batch limit)");
        Require(MaxRequests is >= 1 and <= 16, nameof(MaxRequests), MaxRequests, "1 to 16");
        Require(RequestTimeout >= TimeSpan.FromMilliseconds(10) && RequestTimeout <= TimeSpan.FromDays(1), nameof(RequestTimeout), RequestTimeout, "10 ms to a day (Polly's bounds)");
        Require(Retries is >= 0 and <= 10, nameof(Retries), Retries, "0 to 10");
        Require(RetryDelay >= TimeSpan.Zero && RetryDelay <= TimeSpan.FromDays(1), nameof(RetryDelay), RetryDelay, "zero or positive, at most a day");
        Require(BreakerFailureRatio is > 0 and <= 1, nameof(BreakerFailureRatio), BreakerFailureRatio, "above 0, at most 1");
        Require(BreakerMinimumThroughput >= 2, nameof(BreakerMinimumThroughput), BreakerMinimumThroughput, "2 or more (Polly's minimum)");
        Require(BreakerSamplingDuration >= TimeSpan.FromMilliseconds(500) && BreakerSamplingDuration <= TimeSpan.FromDays(1), nameof(BreakerSamplingDuration), BreakerSamplingDuration, "0.5 s to a day (Polly's bounds)");
        Require(BreakerDuration >= TimeSpan.FromMilliseconds(500) && BreakerDuration <= TimeSpan.FromDays(1), nameof(BreakerDuration), BreakerDuration, "0.5 s to a day (Polly's bounds)");
        Require(MaxResponseBytes >= 1024, nameof(MaxResponseBytes), MaxResponseBytes, "at least 1,024");
    }

    private static void Require(bool ok, string name, object value, string expected)
    {
        if (!ok)
        {
            throw new ArgumentException($"RPC peer option {name} is {value}; it must be {expected}", name);
        }
    }
}
