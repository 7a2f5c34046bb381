using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CsCheck;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Tests.Engine.Wire;

/// <summary>
/// JSON round trips of the Engine API's QUANTITY and DATA encodings (execution-apis: QUANTITY is 0x-prefixed hex
/// without leading zeros, DATA 0x-prefixed even-length hex) over generated values, and refusal of their non-canonical
/// forms (CsCheck; a failure prints the seed that replays it).
/// </summary>
public sealed class QuantityPropertyTests
{
    private static readonly Gen<BigInteger> UInt256 = Gen.Byte.Array[0, 32].Select(b => new BigInteger(b, isUnsigned: true, isBigEndian: true));

    [Fact]
    public void UInt64_quantities_read_back_as_written()
    {
        Gen.ULong.Sample(value =>
        {
            var text = Params.Quantity(value);
            Assert.Equal(value, Params.UInt64Value(Json(text), "q"));
            Assert.Equal(text, text.ToLowerInvariant());
        });
    }

    [Fact]
    public void UInt256_quantities_read_back_as_written()
    {
        UInt256.Sample(value =>
        {
            var text = Params.Quantity(value);
            Assert.Equal(value, Params.UInt256(Object("q", text), "q"));
            Assert.True(text == "0x0" || text[2] != '0', text);
        });
    }

    [Fact]
    public void Quantities_with_leading_zero_digits_are_refused()
    {
        Gen.ULong.Select(Gen.Int[1, 4]).Sample((value, zeros) =>
        {
            var text = "0x" + new string('0', zeros) + value.ToString("x", CultureInfo.InvariantCulture);
            var e = Assert.Throws<RpcException>(() => Params.UInt64Value(Json(text), "q"));
            Assert.Equal(RpcErrorCodes.InvalidParams, e.Code);
        });
    }

    [Fact]
    public void Quantities_wider_than_64_bits_are_refused_as_UInt64()
    {
        UInt256.Where(v => v > ulong.MaxValue).Sample(value =>
        {
            Assert.Throws<RpcException>(() => Params.UInt64Value(Json(Params.Quantity(value)), "q"));
        });
    }

    [Fact]
    public void Data_reads_back_as_written()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var text = Hex.Encode(bytes);
            Assert.Equal(bytes, Params.DataValue(Json(text), "d"));
            Assert.Equal(bytes, Hex.Decode(text));
        });
    }

    /// <summary>geth's hexutil takes "0X" too; it once reached Nethereum, which threw (found by fuzzing).</summary>
    [Fact]
    public void Data_with_an_upper_case_prefix_reads_as_with_the_lower_case_one()
    {
        Gen.Byte.Array[0, 100].Sample(bytes =>
        {
            var text = "0X" + Hex.Encode(bytes)[2..];
            Assert.Equal(bytes, Params.DataValue(Json(text), "d"));
        });
    }

    [Fact]
    public void Data_of_odd_length_or_without_its_prefix_is_refused()
    {
        Gen.Byte.Array[1, 100].Select(Gen.Bool).Sample((bytes, dropPrefix) =>
        {
            var text = Hex.Encode(bytes);
            var spoiled = dropPrefix ? text[2..] : text[..^1];
            Assert.Throws<RpcException>(() => Params.DataValue(Json(spoiled), "d"));
        });
    }

    [Fact]
    public void Hashes_read_back_as_written()
    {
        Gen.Byte.Array[Hash256.Size].Sample(bytes =>
        {
            var hash = new Hash256(bytes);
            Assert.Equal(hash, Params.HashValue(Json(hash.ToString()), "h"));
        });
    }

    private static JsonElement Json(string text) => JsonSerializer.SerializeToElement(text);

    private static JsonElement Object(string name, string text) => JsonSerializer.SerializeToElement(new Dictionary<string, string> { [name] = text });
}
