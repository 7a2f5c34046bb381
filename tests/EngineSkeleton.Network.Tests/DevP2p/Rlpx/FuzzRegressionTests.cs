using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>Inputs the fuzz targets (tests/EngineSkeleton.Fuzz, docs/fuzzing.md) found in the RLPx codecs.</summary>
public sealed class FuzzRegressionTests
{
    /// <summary>
    /// Found by the "rlpx-message" target (seed 20261202): message code 0x1d, then Snappy data whose announced length
    /// fits the limit but whose body overflows Snappier's arithmetic while decompressing.
    /// </summary>
    [Theory]
    [InlineData("1dfcd2d2831dfcd2d2991089fffcb9ca991089ff89ff")]
    [InlineData("13d58dc49c4e1913d58dc49c4e197330c104")]
    public void Corrupt_snappy_data_that_overflows_the_decompressor_is_a_compression_error(string frameHex)
    {
        var frame = Convert.FromHexString(frameHex);

        var e = Assert.Throws<RlpxProtocolException>(() => RlpxConnection.DecodeMessage(frame, new RlpxOptions().MaxMessageSize, compressed: true));

        Assert.Equal(RlpxErrorKind.BadCompression, e.Kind);
    }
}
