using System.Numerics;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Chain;

/// <summary>
/// Built-in networks: chain id, genesis hash and fork schedule, as the public chain configs publish them
/// (go-ethereum params/config.go, checked 2026-11). Genesis state is not embedded: a node of a built-in network
/// anchors on the genesis hash and takes the genesis header from its peers, verified against that hash.
/// The fork lists (<see cref="ChainSpec.ForkBlocks"/>, <see cref="ChainSpec.ForkTimes"/>) are geth's configs key by
/// key (params/config.go at 02b73d4, 2026-08, BPO1 and BPO2 included); the fork ids they give are checked against
/// geth's core/forkid tables.
/// </summary>
public static class Networks
{
    private static (ulong, BlobParameters)[] StandardBlobs(ulong cancun, ulong prague, ulong osaka, ulong bpo1, ulong bpo2) =>
        [(cancun, BlobParameters.Cancun), (prague, BlobParameters.Prague), (osaka, BlobParameters.Osaka), (bpo1, BlobParameters.Bpo1), (bpo2, BlobParameters.Bpo2)];

    public static readonly ChainSpec Mainnet = new()
    {
        Name = "mainnet",
        ChainId = 1,
        GenesisHash = Hash256.FromHex("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"),
        GenesisTimestamp = 0,
        // Homestead, DAO, Tangerine Whistle (EIP-150), Spurious Dragon (EIP-155, EIP-158), Byzantium,
        // Constantinople, Petersburg, Istanbul, Muir Glacier, Berlin, London, Arrow Glacier, Gray Glacier.
        // No merge netsplit block: mainnet's config has none, so MergeBlock below is not a fork here.
        ForkBlocks =
        [
            1_150_000, 1_920_000, 2_463_000, 2_675_000, 2_675_000, 4_370_000, 7_280_000, 7_280_000, 9_069_000,
            9_200_000, 12_244_000, 12_965_000, 13_773_000, 15_050_000,
        ],
        // Shanghai, Cancun, Prague, Osaka, BPO1, BPO2.
        ForkTimes = [1_681_338_455, 1_710_338_135, 1_746_612_311, 1_764_798_551, 1_765_290_071, 1_767_747_671],
        LondonBlock = 12_965_000,
        TerminalTotalDifficulty = BigInteger.Parse("58750000000000000000000", System.Globalization.CultureInfo.InvariantCulture),
        MergeBlock = 15_537_394,
        ShanghaiTime = 1_681_338_455,
        CancunTime = 1_710_338_135,
        PragueTime = 1_746_612_311,
        OsakaTime = 1_764_798_551,
        BlobSchedule = StandardBlobs(1_710_338_135, 1_746_612_311, 1_764_798_551, 1_765_290_071, 1_767_747_671),
    };

    public static readonly ChainSpec Sepolia = new()
    {
        Name = "sepolia",
        ChainId = 11_155_111,
        GenesisHash = Hash256.FromHex("0x25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9"),
        GenesisTimestamp = 0x6159af19,
        // Homestead, Tangerine Whistle, Spurious Dragon (EIP-155, EIP-158), Byzantium, Constantinople, Petersburg,
        // Istanbul, Muir Glacier, Berlin and London at genesis, then the merge netsplit block.
        ForkBlocks = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1_735_371],
        // Shanghai, Cancun, Prague, Osaka, BPO1, BPO2.
        ForkTimes = [1_677_557_088, 1_706_655_072, 1_741_159_776, 1_760_427_360, 1_761_017_184, 1_761_607_008],
        LondonBlock = 0,
        TerminalTotalDifficulty = 17_000_000_000_000_000,
        MergeBlock = 1_735_371,
        ShanghaiTime = 1_677_557_088,
        CancunTime = 1_706_655_072,
        PragueTime = 1_741_159_776,
        OsakaTime = 1_760_427_360,
        BlobSchedule = StandardBlobs(1_706_655_072, 1_741_159_776, 1_760_427_360, 1_761_017_184, 1_761_607_008),
    };

    public static readonly ChainSpec Hoodi = new()
    {
        Name = "hoodi",
        ChainId = 560_048,
        GenesisHash = Hash256.FromHex("0xbbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b"),
        GenesisTimestamp = 0x67d80ec0,
        // The same eleven as Sepolia's and the merge netsplit, all at genesis.
        ForkBlocks = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        // Shanghai and Cancun at time 0 (before genesis), Prague, Osaka, BPO1, BPO2.
        ForkTimes = [0, 0, 1_742_999_832, 1_761_677_592, 1_762_365_720, 1_762_955_544],
        LondonBlock = 0,
        TerminalTotalDifficulty = 0,
        MergeBlock = 0,
        ShanghaiTime = 0,
        CancunTime = 0,
        PragueTime = 1_742_999_832,
        OsakaTime = 1_761_677_592,
        BlobSchedule = StandardBlobs(0, 1_742_999_832, 1_761_677_592, 1_762_365_720, 1_762_955_544),
    };

    public static IReadOnlyList<ChainSpec> All { get; } = [Mainnet, Sepolia, Hoodi];

    public static ChainSpec? ByName(string name) =>
        All.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase));
}
