using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Storage.Skeleton;

/// <summary>
/// A contiguous run of downloaded headers [Tail, Head]; <see cref="Next"/> is the parent hash of the tail header,
/// the hash the next (older) header must have (go-ethereum skeleton.go's subchain).
/// </summary>
public sealed record Subchain(ulong Head, ulong Tail, Hash256 Next);

/// <summary>
/// The skeleton's persisted progress: subchains newest first, and the finalized block number the beacon node last
/// gave (null if none). Written in the same LiteDB transaction as every header batch (docs/sync.md). Lives in Storage
/// because the skeleton store persists it; the sync rules over it are in EngineSkeleton.Sync.Skeleton.
/// </summary>
public sealed record SkeletonProgress(IReadOnlyList<Subchain> Subchains, ulong? Finalized)
{
    public static readonly SkeletonProgress Empty = new([], null);

    public bool Equals(SkeletonProgress? other) =>
        other is not null && Finalized == other.Finalized && Subchains.SequenceEqual(other.Subchains);

    public override int GetHashCode() => HashCode.Combine(Subchains.Count, Finalized);

    public override string ToString() =>
        $"[{string.Join(", ", Subchains.Select(s => $"{{{s.Head}→{s.Tail}}}"))}] finalized={Finalized?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}";
}
