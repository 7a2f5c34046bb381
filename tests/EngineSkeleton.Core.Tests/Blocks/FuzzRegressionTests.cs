using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Blocks;

/// <summary>Inputs the fuzz targets (tests/EngineSkeleton.Fuzz, docs/fuzzing.md) found, kept so that they stay fixed.</summary>
public sealed class FuzzRegressionTests
{
    /// <summary>
    /// Found by the "body" target's round-trip check: a legacy transaction (an RLP list) wrapped in an RLP string was
    /// accepted as if it were a typed envelope, and the body then encoded to other bytes than it was read from.
    /// </summary>
    [Fact]
    public void A_legacy_transaction_wrapped_in_a_string_is_refused_in_a_body()
    {
        var legacy = TestData.Chain.SelectMany(b => b.Body.Transactions).First(t => t[0] >= 0xc0);
        var wrapped = RlpWriter.EncodeBytes(legacy);
        var body = List([.. List(wrapped), .. List([])]);

        var e = Assert.Throws<RlpException>(() => BlockBody.Decode(body));

        Assert.Contains("legacy transaction wrapped in a string", e.Message, StringComparison.Ordinal);
        Assert.Equal(List([.. List(legacy), .. List([])]), new BlockBody([legacy], [], null).Encode());
    }

    private static byte[] List(byte[] payload)
    {
        var output = new byte[RlpWriter.LengthOfList(payload.Length)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload.Length);
        writer.WriteRaw(payload);
        return output;
    }
}
