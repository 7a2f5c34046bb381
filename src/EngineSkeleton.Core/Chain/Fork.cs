namespace EngineSkeleton.Core.Chain;

/// <summary>
/// Execution-layer forks that change what a block or an Engine API call looks like. Blob-parameter-only forks
/// (BPO1, BPO2, ...) are not listed: they change the blob schedule (<see cref="BlobParameters"/>), not the payload shape.
/// </summary>
public enum Fork
{
    /// <summary>Before the merge: proof-of-work blocks, anchored by hash links alone (docs/trust.md).</summary>
    PreMerge,
    Paris,
    Shanghai,
    Cancun,
    Prague,
    Osaka,
}
