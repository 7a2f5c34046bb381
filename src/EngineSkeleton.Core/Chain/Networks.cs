using System.Numerics;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Chain;

/// <summary>
/// Built-in networks: chain id, genesis hash and fork schedule, as the public chain configs publish them
/// (go-ethereum params/config.go, checked 2026-11). Genesis state is not embedded: a node of a built-in network
/// anchors on the genesis hash and takes the genesis header from its peers, verified against that hash.
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
