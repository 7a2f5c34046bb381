namespace EngineSkeleton.Sync.Peers;

/// <summary>
/// The arithmetic of peer throughput estimation, after go-ethereum's p2p/msgrate: each answer moves a peer's
/// capacity (items per second) and round trip a tenth of the way toward what was just measured, and request
/// timeouts follow the round trip, loosened while the estimates are young. Pure; <see cref="PeerSet"/> holds the
/// state and the clock.
/// </summary>
internal static class MessageRate
{
    /// <summary>
    /// Weight of one measurement in the moving averages (msgrate's measurementImpact, 0.1): slow enough to ride out
    /// a hiccup, fast enough to follow a peer whose link changes within a few dozen answers.
    /// </summary>
    public const double MeasurementImpact = 0.1;

    /// <summary>
    /// Over-ask by 1% when sizing a request from a capacity (msgrate's capacityOverestimation) so a peer is never
    /// locked into a low estimate only because it was never asked for more.
    /// </summary>
    public const double CapacityOverestimation = 1.01;

    /// <summary>
    /// Weight of the peers' reference round trip when the set re-tunes (msgrate's tuningImpact, 0.25; a heuristic
    /// that keeps the set-wide value from jumping).
    /// </summary>
    public const double TuningImpact = 0.25;

    /// <summary>Lowest confidence after peers join (msgrate's rttMinConfidence): timeouts grow at most tenfold.</summary>
    public const double MinConfidence = 0.1;

    /// <summary>
    /// From this many peers on, a newcomer no longer lowers the confidence (msgrate's tuningConfidenceCap): the
    /// existing estimates already describe the network well.
    /// </summary>
    public const int ConfidenceCapPeers = 10;

    /// <summary>Timeout as a multiple of the round trip (msgrate's ttlScaling, 3): slack for a loaded peer.</summary>
    public const double TimeoutScaling = 3;

    /// <summary>
    /// Shortest reference round trip (msgrate's rttMinEstimate, 2 s): every request pays two latencies and the
    /// serving node's disk reads, so a target below this would only produce tiny requests.
    /// </summary>
    public static readonly TimeSpan RoundTripMin = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest reference round trip (msgrate's rttMaxEstimate, 20 s), and the estimate while no peer has answered:
    /// covers the worst real links (a satellite hop) without stalling the pipeline for longer.
    /// </summary>
    public static readonly TimeSpan RoundTripMax = TimeSpan.FromSeconds(20);

    /// <summary>No request waits longer than a minute, however bad the estimates (msgrate's ttlLimit).</summary>
    public static readonly TimeSpan TimeoutCap = TimeSpan.FromMinutes(1);

    /// <summary>
    /// No request times out sooner than <see cref="TimeoutScaling"/> × <see cref="RoundTripMin"/> = 6 s. geth's
    /// set-wide round trip never drops below 2 s, so its timeout never drops below this; our timeouts follow each
    /// peer's own round trip, which can be milliseconds on a local link, so the floor is written down explicitly.
    /// </summary>
    public static readonly TimeSpan TimeoutFloor = TimeoutScaling * RoundTripMin;

    /// <summary>Moves <paramref name="estimate"/> toward <paramref name="sample"/> by <paramref name="impact"/>.</summary>
    public static double Blend(double estimate, double sample, double impact) =>
        ((1 - impact) * estimate) + (impact * sample);

    /// <summary>Items per second of one answer. A zero or negative elapsed time counts as one tick, not a division by zero.</summary>
    public static double Throughput(int items, TimeSpan elapsed)
    {
        var seconds = Math.Max(elapsed.Ticks, 1) / (double)TimeSpan.TicksPerSecond;
        return items / seconds;
    }

    /// <summary>
    /// The capacity after an answer of <paramref name="items"/> that took <paramref name="elapsed"/>. Nothing
    /// delivered (a timeout, a peer without the data) slashes the capacity to zero, so the peer gets work last
    /// until it proves itself again (msgrate's Update).
    /// </summary>
    public static double NextCapacity(double capacity, int items, TimeSpan elapsed) =>
        items <= 0 ? 0 : Blend(capacity, Throughput(items, elapsed), MeasurementImpact);

    /// <summary>The round trip after an answer; an answer with nothing in it says nothing about the round trip.</summary>
    public static TimeSpan NextRoundTrip(TimeSpan roundTrip, int items, TimeSpan elapsed) =>
        items <= 0
            ? roundTrip
            : TimeSpan.FromTicks((long)Math.Round(Blend(roundTrip.Ticks, Math.Max(elapsed.Ticks, 1), MeasurementImpact)));

    /// <summary>
    /// How many items a peer of this capacity should be asked for to answer within <paramref name="target"/>:
    /// at least 1, over-asking by <see cref="CapacityOverestimation"/> plus one item (msgrate's Capacity).
    /// </summary>
    public static int ItemsWithin(double capacity, TimeSpan target)
    {
        var items = 1 + (CapacityOverestimation * capacity * target.TotalSeconds);
        return (int)Math.Clamp(Math.Ceiling(items), 1, int.MaxValue);
    }

    /// <summary>
    /// The round trip a newcomer starts with and the set re-tunes toward. geth calls it the median, but takes the
    /// ⌊√n⌋-th fastest of n peers, which leans toward the fast ones; then clamps it to
    /// [<see cref="RoundTripMin"/>, <see cref="RoundTripMax"/>]. No peers: <see cref="RoundTripMax"/>.
    /// </summary>
    public static TimeSpan ReferenceRoundTrip(IReadOnlyList<TimeSpan> roundTrips)
    {
        ArgumentNullException.ThrowIfNull(roundTrips);
        if (roundTrips.Count == 0)
        {
            return RoundTripMax;
        }
        var sorted = roundTrips.ToArray();
        Array.Sort(sorted);
        var pick = sorted.Length == 1 ? sorted[0] : sorted[(int)Math.Sqrt(sorted.Length)];
        return pick < RoundTripMin ? RoundTripMin : pick > RoundTripMax ? RoundTripMax : pick;
    }

    /// <summary>
    /// The confidence once a peer has joined, making <paramref name="peers"/> in all: a lone peer is fully trusted;
    /// below <see cref="ConfidenceCapPeers"/> each newcomer scales it by (n−1)/n, not below
    /// <see cref="MinConfidence"/>; from the cap on it is left alone (msgrate's detune).
    /// </summary>
    public static double Detuned(double confidence, int peers) =>
        peers <= 1 ? 1
        : peers >= ConfidenceCapPeers ? confidence
        : Math.Max(confidence * (peers - 1) / peers, MinConfidence);

    /// <summary>The confidence after one more round trip without a newcomer: half the way back to 1 (msgrate's tune).</summary>
    public static double Tuned(double confidence) => confidence + ((1 - confidence) / 2);

    /// <summary>
    /// The time a request may take: <see cref="TimeoutScaling"/> round trips divided by the confidence, within
    /// [<see cref="TimeoutFloor"/>, <see cref="TimeoutCap"/>] (msgrate's targetTimeout, plus the floor).
    /// </summary>
    public static TimeSpan Timeout(TimeSpan roundTrip, double confidence)
    {
        var ticks = TimeoutScaling * roundTrip.Ticks / Math.Max(confidence, MinConfidence);
        return ticks >= TimeoutCap.Ticks ? TimeoutCap
            : ticks <= TimeoutFloor.Ticks ? TimeoutFloor
            : TimeSpan.FromTicks((long)ticks);
    }
}
