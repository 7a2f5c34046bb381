using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Tests.Primitives;

/// <summary>Inputs the fuzz targets (tests/EngineSkeleton.Fuzz, docs/fuzzing.md) found in the primitives.</summary>
public sealed class FuzzRegressionTests
{
    /// <summary>
    /// Found by the "payload-json" target (AFL): an extraData of "0X" passed the prefix check, which allows an upper-case
    /// X as geth's hexutil does, and then Nethereum, which strips only a lower-case "0x", threw FormatException on it.
    /// </summary>
    [Theory]
    [InlineData("0X", new byte[0])]
    [InlineData("0Xab", new byte[] { 0xab })]
    [InlineData("0XABcd", new byte[] { 0xab, 0xcd })]
    [InlineData("0x", new byte[0])]
    public void An_upper_case_prefix_reads_as_the_lower_case_one(string hex, byte[] expected)
    {
        Assert.True(Hex.TryDecode(hex, out var bytes));
        Assert.Equal(expected, bytes);
        Assert.Equal(expected, Hex.Decode(hex));
    }
}
