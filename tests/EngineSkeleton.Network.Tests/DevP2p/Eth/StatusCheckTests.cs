using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Eth;

namespace EngineSkeleton.Network.Tests.DevP2p.Eth;

public sealed class StatusCheckTests
{
    /// <summary>Our head: a mainnet block after BPO2.</summary>
    private const ulong HeadNumber = 23_000_000, HeadTime = 1_770_000_000;

    private static readonly ForkFilter Filter = new(Networks.Mainnet);

    private static readonly Hash256 HeadHash = Hash256.FromHex("0x1111111111111111111111111111111111111111111111111111111111111111");

    private static readonly StatusMessage69 Ours = new(
        69, 1, Networks.Mainnet.GenesisHash, ForkId.For(Networks.Mainnet, HeadNumber, HeadTime), new BlockRange(0, HeadNumber, HeadHash));

    [Fact]
    public void A_peer_on_our_chain_and_version_is_compatible()
    {
        var check = StatusCheck.Compare(Ours, Ours with { Range = new BlockRange(15_537_394, HeadNumber - 5, HeadHash) }, Filter, HeadNumber, HeadTime);

        Assert.True(check.Compatible, check.ToString());
        Assert.Equal("compatible", check.ToString());
    }

    [Fact]
    public void A_syncing_peer_one_fork_behind_that_knows_the_next_is_compatible()
    {
        var theirs = Ours with { ForkId = new ForkId(0xcba2a1c0, 1_767_747_671) };

        Assert.True(StatusCheck.Compare(Ours, theirs, Filter, HeadNumber, HeadTime).Compatible);
    }

    /// <summary>Cases by the sentence that names them: the message types are internal, so theories take the sentence.</summary>
    private static readonly Dictionary<string, (StatusMessage Theirs, StatusField Field, string[] Words)> Cases = new()
    {
        ["another network"] = (Ours with { NetworkId = 11_155_111 }, StatusField.NetworkId, ["network id", "theirs 11155111", "ours 1"]),
        ["another version inside an eth/69 status"] = (Ours with { Version = 70 }, StatusField.Version, ["eth version", "theirs 70", "ours 69"]),
        ["an eth/68 status against our eth/69 one"] = (
            new StatusMessage68(68, 1, 0, HeadHash, Networks.Mainnet.GenesisHash, Ours.ForkId),
            StatusField.Version,
            ["theirs 68", "ours 69"]),
        ["another genesis"] = (
            Ours with { Genesis = Networks.Sepolia.GenesisHash },
            StatusField.Genesis,
            ["genesis", Networks.Sepolia.GenesisHash.ToString(), Networks.Mainnet.GenesisHash.ToString()]),
        ["a peer stuck at Prague that knows no later fork"] = (
            Ours with { ForkId = new ForkId(0xc376cf8b, 0) },
            StatusField.ForkId,
            ["fork id", "theirs 0xc376cf8b next 0", "ours 0x07c9462e next 0", "needs an update"]),
        ["a peer on another chain's fork state"] = (
            Ours with { ForkId = new ForkId(0x12345678, 0) },
            StatusField.ForkId,
            ["theirs 0x12345678 next 0", "none of ours"]),
        ["a range whose earliest block is after its latest"] = (
            Ours with { Range = new BlockRange(10, 5, HeadHash) },
            StatusField.BlockRange,
            ["block range", "earliest block 10 is after latest block 5"]),
        ["a range whose latest hash is zero"] = (
            Ours with { Range = new BlockRange(0, 5, Hash256.Zero) },
            StatusField.BlockRange,
            ["block range", "latest block hash is zero"]),
    };

    public static TheoryData<string> Mismatches() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void Each_difference_is_named_with_both_values(string what)
    {
        var (theirs, field, words) = Cases[what];
        var check = StatusCheck.Compare(Ours, theirs, Filter, HeadNumber, HeadTime);

        var mismatch = Assert.Single(check.Mismatches);
        Assert.Equal(field, mismatch.Field);
        Assert.False(check.Compatible, what);
        foreach (var word in words)
        {
            Assert.True(mismatch.Reason.Contains(word, StringComparison.Ordinal), $"{what}: '{word}' not in '{mismatch.Reason}'");
        }
    }

    [Fact]
    public void Every_difference_is_listed_in_the_order_geth_checks_them()
    {
        var theirs = Ours with
        {
            Version = 68,
            NetworkId = 5,
            Genesis = Networks.Hoodi.GenesisHash,
            ForkId = new ForkId(0x23aa1351, 0),
            Range = new BlockRange(9, 1, HeadHash),
        };

        var check = StatusCheck.Compare(Ours, theirs, Filter, HeadNumber, HeadTime);

        Assert.Equal(
            [StatusField.NetworkId, StatusField.Version, StatusField.Genesis, StatusField.ForkId, StatusField.BlockRange],
            check.Mismatches.Select(m => m.Field));
        Assert.Equal(string.Join("; ", check.Mismatches.Select(m => m.Reason)), check.ToString());
    }
}
