using System.Globalization;

namespace EngineSkeleton.Benchmarks;

/// <summary>What the GC did during a measured phase: collections by generation, time paused, bytes allocated.</summary>
internal sealed record GcCost(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long Allocated)
{
    public static GcCost Now() =>
        new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(precise: false));

    public GcCost Since(GcCost start) =>
        new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, Paused - start.Paused, Allocated - start.Allocated);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"GC {Gen0}/{Gen1}/{Gen2} (gen0/1/2), paused {Paused.TotalMilliseconds:F0} ms, allocated {Allocated / 1_000_000.0:N0} MB");
}
