namespace EngineSkeleton.Core.Chain;

/// <summary>EIP-4844 blob parameters in force from a timestamp on (EIP-7840 blobSchedule; BPO forks of EIP-7892).</summary>
/// <param name="Target">Target blobs per block.</param>
/// <param name="Max">Maximum blobs per block.</param>
/// <param name="UpdateFraction">Denominator of the blob base fee exponential.</param>
public sealed record BlobParameters(ulong Target, ulong Max, ulong UpdateFraction)
{
    /// <summary>Blob gas per blob: 2^17 (EIP-4844 GAS_PER_BLOB).</summary>
    public const ulong GasPerBlob = 1 << 17;

    public ulong TargetBlobGas => Target * GasPerBlob;

    public ulong MaxBlobGas => Max * GasPerBlob;

    public static readonly BlobParameters Cancun = new(3, 6, 3_338_477);
    public static readonly BlobParameters Prague = new(6, 9, 5_007_716);
    public static readonly BlobParameters Osaka = new(6, 9, 5_007_716);
    public static readonly BlobParameters Bpo1 = new(10, 15, 8_346_193);
    public static readonly BlobParameters Bpo2 = new(14, 21, 11_684_671);
}
