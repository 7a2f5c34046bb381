using System.Numerics;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Eth;

namespace EngineSkeleton.Network.Tests.DevP2p.Eth;

/// <summary>
/// Status and BlockRangeUpdate against the field lists of EIP-7642, byte for byte. The expected bytes are written out
/// field by field from the RLP rules (a byte below 0x80 is itself; a string of n &lt; 56 bytes is 0x80+n then the
/// bytes; a list whose items take n bytes is 0xc0+n when n &lt; 56, else 0xf7+k then n in k bytes), never by the encoder.
/// </summary>
public sealed class StatusMessageTests
{
    private const string MainnetGenesis = "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3";

    private const string LatestHash = "1111111111111111111111111111111111111111111111111111111111111111";

    private static readonly ForkId Bpo2 = new(0x07c9462e, 0);

    private static readonly BlockRange Range = new(0, 23_000_000, Hash256.FromHex("0x" + LatestHash));

    [Fact]
    public void Eth69_status_is_version_networkid_genesis_forkid_earliest_latest_latesthash()
    {
        var status = new StatusMessage69(69, 1, Hash256.FromHex("0x" + MainnetGenesis), Bpo2, Range);
        var fields =
            "45" // version 69: one byte below 0x80
            + "01" // network id 1
            + "a0" + MainnetGenesis // genesis: a 32-byte string
            + "c6" + "84" + "07c9462e" + "80" // fork id: a list of 6 bytes, the 4-byte hash string and next 0 (empty string)
            + "80" // earliest block 0
            + "84" + "015ef3c0" // latest block 23,000,000: four bytes
            + "a0" + LatestHash; // latest block hash
        Assert.Equal(1 + 1 + 33 + 7 + 1 + 5 + 33, fields.Length / 2);
        var expected = "f8" + "51" + fields; // 81 bytes of items: the long form, one length byte

        Assert.Equal(expected, Convert.ToHexStringLower(status.Encode()));
        Assert.Equal(status, StatusMessage.Decode(EthProtocol.Eth69, Convert.FromHexString(expected)));
    }

    [Fact]
    public void Eth68_status_is_version_networkid_td_head_genesis_forkid()
    {
        var td = BigInteger.Parse("58750000000000000000000", System.Globalization.CultureInfo.InvariantCulture);
        var status = new StatusMessage68(68, 1, td, Hash256.FromHex("0x" + LatestHash), Hash256.FromHex("0x" + MainnetGenesis), Bpo2);
        var fields =
            "44" // version 68
            + "01" // network id 1
            + "8a" + "0c70d808a128d7380000" // total difficulty 58,750,000,000,000,000,000,000: ten bytes
            + "a0" + LatestHash // head block hash
            + "a0" + MainnetGenesis
            + "c6" + "84" + "07c9462e" + "80";
        Assert.Equal(86, fields.Length / 2);
        var expected = "f8" + "56" + fields;

        Assert.Equal(expected, Convert.ToHexStringLower(status.Encode()));
        Assert.Equal(status, StatusMessage.Decode(EthProtocol.Eth68, Convert.FromHexString(expected)));
    }

    [Fact]
    public void Block_range_update_is_earliest_latest_latesthash()
    {
        var message = new BlockRangeUpdateMessage(Range);
        var expected =
            "e7" // a list of 39 bytes: 0xc0 + 39
            + "80" // earliest 0
            + "84" + "015ef3c0" // latest 23,000,000
            + "a0" + LatestHash;

        Assert.Equal(EthMessageCode.BlockRangeUpdate, message.Code);
        Assert.Equal(expected, Convert.ToHexStringLower(message.Encode()));
        Assert.Equal(message, BlockRangeUpdateMessage.Decode(Convert.FromHexString(expected)));
        Assert.Equal(message, EthMessages.Decode(EthProtocol.Eth69, EthMessageCode.BlockRangeUpdate, Convert.FromHexString(expected)));
    }

    /// <summary>
    /// Hostile variants of the eth/69 status above, whose hex is: list prefix [0..4), version [4..6), network id
    /// [6..8), genesis [8..74), fork id [74..88), earliest [88..90), latest [90..100), latest hash [100..166).
    /// </summary>
    public static TheoryData<string, int, string, string> HostileStatus() => new()
    {
        { "an eth/68 status read where eth/69 was negotiated: td 1 where the genesis goes", EthProtocol.Eth69, Eth68Hex(), "32 bytes" },
        { "an eth/69 status read where eth/68 was negotiated: the fork id where the head goes", EthProtocol.Eth68, Eth69Hex(), "expected a string, found a list" },
        { "a version of five bytes", EthProtocol.Eth69, "f856" + "850100000000" + Eth69Hex()[6..], "version 4294967296 does not fit in 32 bits" },
        { "the latest hash missing", EthProtocol.Eth69, "f0" + Eth69Hex()[4..100], "end of the input" },
        { "a fork hash of three bytes", EthProtocol.Eth69, "f850" + Eth69Hex()[4..74] + "c583" + "07c946" + "80" + Eth69Hex()[88..], "4 bytes" },
        { "an empty list where the genesis hash goes", EthProtocol.Eth69, "f1" + "45" + "01" + "c0" + Eth69Hex()[74..], "expected a string, found a list" },
        { "the message cut short", EthProtocol.Eth69, Eth69Hex()[..60], "overruns" },
        { "a byte after the status", EthProtocol.Eth69, Eth69Hex() + "80", "trailing" },
        { "not a list at all", EthProtocol.Eth69, "45", "expected a list" },
    };

    [Theory]
    [MemberData(nameof(HostileStatus))]
    public void Malformed_status_is_refused_with_the_reason(string what, int version, string hex, string reason)
    {
        var error = Assert.Throws<EthMessageException>(() => StatusMessage.Decode(version, Convert.FromHexString(hex)));

        Assert.StartsWith("eth Status: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(reason, StringComparison.Ordinal), $"{what}: {error.Message}");
    }

    private static string Eth69Hex() => Convert.ToHexStringLower(
        new StatusMessage69(69, 1, Hash256.FromHex("0x" + MainnetGenesis), Bpo2, Range).Encode());

    private static string Eth68Hex() => Convert.ToHexStringLower(
        new StatusMessage68(68, 1, 1, Hash256.FromHex("0x" + LatestHash), Hash256.FromHex("0x" + MainnetGenesis), Bpo2).Encode());
}
