using System.Numerics;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Tests.Rlp;

public sealed class RlpWriterTests
{
    [Theory]
    [InlineData("zero is the empty string", 0UL, "0x80")]
    [InlineData("one is its own byte", 1UL, "0x01")]
    [InlineData("0x7f is the largest single-byte integer", 0x7fUL, "0x7f")]
    [InlineData("0x80 needs a one-byte string", 0x80UL, "0x8180")]
    [InlineData("0x100 is two bytes", 0x100UL, "0x820100")]
    [InlineData("the largest ulong takes eight bytes", ulong.MaxValue, "0x88ffffffffffffffff")]
    public void Integers_are_encoded_minimally(string proves, ulong value, string expected)
    {
        Assert.NotEmpty(proves);
        var encoded = RlpWriter.EncodeUInt64(value);
        Assert.Equal(expected, Hex.Encode(encoded));
        Assert.Equal(encoded.Length, RlpWriter.LengthOfUInt64(value));
        Assert.Equal(RlpWriter.LengthOfBigInteger(value), encoded.Length);
        var viaBig = new byte[encoded.Length];
        var writer = new RlpWriter(viaBig);
        writer.WriteBigInteger(value);
        Assert.Equal(encoded, viaBig);
    }

    [Theory]
    [InlineData("the empty string is 0x80", 0, "0x80")]
    [InlineData("55 bytes is the longest short string", 55, "0xb7")]
    [InlineData("56 bytes takes the long form with one length byte", 56, "0xb838")]
    [InlineData("1024 bytes takes two length bytes", 1024, "0xb90400")]
    public void Strings_switch_to_the_long_form_at_56_bytes(string proves, int length, string expectedPrefix)
    {
        Assert.NotEmpty(proves);
        var payload = Enumerable.Repeat((byte)0x61, length).ToArray();
        var encoded = RlpWriter.EncodeBytes(payload);
        Assert.StartsWith(expectedPrefix, Hex.Encode(encoded), StringComparison.Ordinal);
        Assert.Equal(RlpWriter.LengthOfBytes(payload), encoded.Length);
        var reader = new RlpReader(encoded);
        Assert.Equal(payload, reader.ReadBytes().ToArray());
        reader.EnsureEnd();
    }

    [Fact]
    public void Single_bytes_below_0x80_are_written_as_themselves()
    {
        Assert.Equal([0x00], RlpWriter.EncodeBytes([0x00]));
        Assert.Equal([0x7f], RlpWriter.EncodeBytes([0x7f]));
        Assert.Equal([0x81, 0x80], RlpWriter.EncodeBytes([0x80]));
    }

    [Fact]
    public void A_list_of_every_item_kind_reads_back_as_written()
    {
        var hash = Keccak("x");
        var address = new Address(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
        var big = (BigInteger.One << 255) + 12345;
        var raw = Hex.Decode("0xc3010203");
        var payload = RlpWriter.LengthOfHash256 + RlpWriter.LengthOfAddress + RlpWriter.LengthOfBigInteger(big)
            + RlpWriter.LengthOfUInt64(300) + RlpWriter.LengthOfBytes("dog"u8) + raw.Length;
        var buffer = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(buffer);
        writer.WriteListHeader(payload);
        writer.WriteHash256(hash);
        writer.WriteAddress(address);
        writer.WriteBigInteger(big);
        writer.WriteUInt64(300);
        writer.WriteBytes("dog"u8);
        writer.WriteRaw(raw);
        Assert.Equal(buffer.Length, writer.Position);

        var list = new RlpReader(buffer).ReadList();
        Assert.Equal(hash, list.ReadHash256());
        Assert.Equal(address, list.ReadAddress());
        Assert.Equal(big, list.ReadBigInteger());
        Assert.Equal(300UL, list.ReadUInt64());
        Assert.Equal("dog"u8.ToArray(), list.ReadBytes().ToArray());
        Assert.Equal(raw, list.ReadRawItem().ToArray());
        list.EnsureEnd();
    }

    [Fact]
    public void Long_list_headers_carry_their_length_big_endian()
    {
        var buffer = new byte[RlpWriter.LengthOfList(300) - 300];
        var writer = new RlpWriter(buffer);
        writer.WriteListHeader(300);
        Assert.Equal("0xf9012c", Hex.Encode(buffer));
    }

    [Fact]
    public void Negative_integers_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RlpWriter.LengthOfBigInteger(BigInteger.MinusOne));
    }

    private static Hash256 Keccak(string text) =>
        EngineSkeleton.Core.Crypto.Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(text));
}
