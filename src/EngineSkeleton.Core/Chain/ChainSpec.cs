using System.Numerics;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Chain;

/// <summary>
/// What the node must know of a chain to judge blocks without state: its id, its anchor (genesis) and when each
/// fork starts. Block-numbered forks matter only before the merge; timestamped forks from Shanghai on.
/// </summary>
public sealed record ChainSpec
{
    public required string Name { get; init; }

    public required ulong ChainId { get; init; }

    /// <summary>The genesis hash: the root every synced chain must link to (unless a checkpoint is given).</summary>
    public required Hash256 GenesisHash { get; init; }

    /// <summary>
    /// The genesis block's timestamp. Forks scheduled by time at or before it are the genesis rules, not forks
    /// (EIP-2124: the fork id skips them).
    /// </summary>
    public ulong GenesisTimestamp { get; init; }

    /// <summary>
    /// Every fork the chain config schedules by block number, as geth's <c>*Block</c> keys list them (homestead,
    /// daoFork, eip150, eip155, eip158, byzantium, constantinople, petersburg, istanbul, muirGlacier, berlin, london,
    /// arrowGlacier, grayGlacier, mergeNetsplit), repeats and forks at block 0 included. The fork id (EIP-2124) is
    /// computed over these and <see cref="ForkTimes"/> alone, so they must hold <see cref="LondonBlock"/> too.
    /// <see cref="MergeBlock"/> is one of them only where the config names a merge netsplit block: mainnet's does not.
    /// </summary>
    public IReadOnlyList<ulong> ForkBlocks { get; init; } = [];

    /// <summary>
    /// Every fork the chain config schedules by timestamp, as geth's <c>*Time</c> keys list them (shanghai, cancun,
    /// prague, osaka, bpo1..bpo5, amsterdam, ...), forks at or before genesis included: Shanghai to Osaka and the
    /// blob-parameter-only forks of <see cref="BlobSchedule"/> must all be here.
    /// </summary>
    public IReadOnlyList<ulong> ForkTimes { get; init; } = [];

    /// <summary>First block of London (EIP-1559 base fee); 0 when active at genesis, null when never.</summary>
    public ulong? LondonBlock { get; init; }

    /// <summary>Total difficulty at which proof-of-work ended. Reported, not enforced (docs/trust.md: no ethash, no TD).</summary>
    public BigInteger? TerminalTotalDifficulty { get; init; }

    /// <summary>First proof-of-stake block, where the chain config knows it (geth's mergeNetsplitBlock).</summary>
    public ulong? MergeBlock { get; init; }

    public ulong? ShanghaiTime { get; init; }

    public ulong? CancunTime { get; init; }

    public ulong? PragueTime { get; init; }

    public ulong? OsakaTime { get; init; }

    /// <summary>Blob parameters by activation time, ascending (Cancun, Prague, Osaka, BPO1, ...).</summary>
    public IReadOnlyList<(ulong Time, BlobParameters Parameters)> BlobSchedule { get; init; } = [];

    /// <summary>
    /// The fork a block of this timestamp belongs to. Pre-merge blocks are told apart by difficulty, not here:
    /// a payload arriving through the Engine API is post-merge by definition.
    /// </summary>
    public Fork ForkAt(ulong timestamp) =>
        OsakaTime <= timestamp ? Fork.Osaka
        : PragueTime <= timestamp ? Fork.Prague
        : CancunTime <= timestamp ? Fork.Cancun
        : ShanghaiTime <= timestamp ? Fork.Shanghai
        : Fork.Paris;

    public bool IsLondon(ulong number) => LondonBlock <= number;

    /// <summary>The blob parameters in force at this timestamp, or null before Cancun.</summary>
    public BlobParameters? BlobParametersAt(ulong timestamp)
    {
        BlobParameters? found = null;
        foreach (var (time, parameters) in BlobSchedule)
        {
            if (time > timestamp)
            {
                break;
            }
            found = parameters;
        }
        return found;
    }
}
