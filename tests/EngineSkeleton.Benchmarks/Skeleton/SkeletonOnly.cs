using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Benchmarks.Skeleton;

/// <summary>
/// What the skeleton-sync benchmarks (over in-process peers and over devp2p) put around a SkeletonSync to measure its
/// header phase alone: a local chain of only the genesis, no backfill, and their shared arithmetic and formatting.
/// </summary>
internal static class SkeletonOnly
{
    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The skeleton links when it reaches the genesis.</summary>
    internal sealed class GenesisOnly(BlockHeader genesis) : IChainLink
    {
        public bool IsLinked(ulong number, Hash256 hash) => number == 0 && hash == genesis.Hash;
    }

    /// <summary>The sync hands over to nobody once linked.</summary>
    internal sealed class NoBackfiller : IBackfiller
    {
        public Task<BlockHeader?> SuspendAsync(CancellationToken cancellationToken) => Task.FromResult<BlockHeader?>(null);

        public void Resume()
        {
        }
    }
}
