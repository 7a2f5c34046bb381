using System.Numerics;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Tests.Rlp;

public sealed class RlpReaderTests
{
    /// <summary>How a malformed case is read: the reader call whose refusal the case proves.</summary>
    public enum Read
    {
        Bytes,
        UInt64,
        BigInteger,
        Hash,
        Address,
        List,
        Raw,
        BytesThenEnd,
        FirstItemOfList,
    }

    public static TheoryData<string, string, Read, string> Malformed => new()
    {
        { "a single byte below 0x80 wrapped as a one-byte string is non-canonical", "0x8105", Read.Bytes, "encoded as itself" },
        { "a single byte below 0x80 wrapped as a string is refused by ReadRawItem too", "0x817f", Read.Raw, "encoded as itself" },
        { "the long string form for a length below 56 is non-canonical", "0xb837" + Repeat("61", 55), Read.Bytes, "long form" },
        { "the long list form for a payload below 56 is non-canonical", "0xf80180", Read.List, "long form" },
        { "a string length with a leading zero byte is non-canonical", "0xb90038" + Repeat("61", 56), Read.Bytes, "length has a leading zero" },
        { "a list length with a leading zero byte is non-canonical", "0xf90038" + Repeat("80", 56), Read.List, "length has a leading zero" },
        { "an integer with a leading zero byte is non-canonical", "0x820001", Read.UInt64, "integer has a leading zero" },
        { "zero written as the byte 0x00 is non-canonical (zero is the empty string 0x80)", "0x00", Read.UInt64, "integer has a leading zero" },
        { "an integer wider than 64 bits does not fit a ulong", "0x89010000000000000000", Read.UInt64, "exceeds the 8-byte limit" },
        { "a 256-bit quantity with a leading zero byte is non-canonical", "0x820080", Read.BigInteger, "integer has a leading zero" },
        { "a quantity wider than 256 bits is refused", "0xa101" + Repeat("00", 32), Read.BigInteger, "exceeds the 32-byte limit" },
        { "a list is not an integer", "0xc0", Read.UInt64, "expected a string, found a list" },
        { "a string cut off before its declared end is truncated", "0x83aabb", Read.Bytes, "overruns" },
        { "a list cut off before its declared end is truncated", "0xc38001", Read.List, "overruns" },
        { "a long-form length cut off before its last byte is truncated", "0xb901", Read.Bytes, "cut off" },
        { "a long list whose payload is cut off is truncated", "0xf838" + Repeat("80", 55), Read.List, "overruns" },
        { "a declared length beyond any input is refused, not overflowed", "0xbfffffffffffffffff", Read.Bytes, "beyond any input" },
        { "a declared length just past int.MaxValue is refused, not overflowed", "0xbb80000000", Read.Bytes, "beyond any input" },
        { "empty input holds no item", "0x", Read.Bytes, "end of the input" },
        { "empty input holds no list", "0x", Read.List, "end of the input" },
        { "trailing bytes after the item are refused where exact consumption is required", "0x8080", Read.BytesThenEnd, "trailing" },
        { "a list where a string is expected is refused", "0xc0", Read.Bytes, "expected a string, found a list" },
        { "a string where a list is expected is refused", "0x80", Read.List, "expected a list" },
        { "a hash must be exactly 32 bytes, not 31", "0x9f" + Repeat("11", 31), Read.Hash, "expected a string of 32 bytes" },
        { "a hash must be exactly 32 bytes, not 33", "0xa1" + Repeat("11", 33), Read.Hash, "expected a string of 32 bytes" },
        { "an address must be exactly 20 bytes", "0x95" + Repeat("22", 21), Read.Address, "expected a string of 20 bytes" },
        { "an item overrunning its enclosing list is refused even if the input goes on", "0xc283616263", Read.FirstItemOfList, "overruns" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_input_is_refused(string proves, string hex, Read read, string reason)
    {
        Assert.NotEmpty(proves);
        var input = Hex.Decode(hex);
        var exception = Assert.Throws<RlpException>(() => Apply(input, read));
        Assert.StartsWith("RLP: ", exception.Message, StringComparison.Ordinal);
        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zero is the empty string", "0x80", 0UL)]
    [InlineData("small values are their own single byte", "0x7f", 0x7fUL)]
    [InlineData("0x80 needs a one-byte string", "0x8180", 0x80UL)]
    [InlineData("1024 is two big-endian bytes", "0x820400", 1024UL)]
    [InlineData("the largest ulong takes eight bytes", "0x88ffffffffffffffff", ulong.MaxValue)]
    public void Canonical_integers_are_read(string proves, string hex, ulong expected)
    {
        Assert.NotEmpty(proves);
        var reader = new RlpReader(Hex.Decode(hex));
        Assert.Equal(expected, reader.ReadUInt64());
        reader.EnsureEnd();
    }

    [Fact]
    public void Largest_256_bit_quantity_is_read()
    {
        var reader = new RlpReader(Hex.Decode("0xa0" + Repeat("ff", 32)));
        Assert.Equal((BigInteger.One << 256) - 1, reader.ReadBigInteger());
    }

    [Fact]
    public void Nested_lists_are_walked_with_the_items_they_hold()
    {
        // The RLP spec's example ["cat", "dog"], then the set-theoretic three [ [], [[]], [ [], [[]] ] ].
        var reader = new RlpReader(Hex.Decode("0xc88363617483646f67c7c0c1c0c3c0c1c0"));
        Assert.True(reader.PeekIsList);
        var animals = reader.ReadList();
        Assert.Equal("cat"u8.ToArray(), animals.ReadBytes().ToArray());
        Assert.Equal("dog"u8.ToArray(), animals.ReadBytes().ToArray());
        animals.EnsureEnd();

        var three = reader.ReadList();
        Assert.False(three.ReadList().HasMore);
        var second = three.ReadList();
        Assert.False(second.ReadList().HasMore);
        second.EnsureEnd();
        Assert.Equal(Hex.Decode("0xc3c0c1c0"), three.ReadRawItem().ToArray());
        three.EnsureEnd();
        reader.EnsureEnd();
    }

    [Fact]
    public void Error_offsets_count_from_the_start_of_the_outer_input()
    {
        // The leading-zero integer sits at byte 2 of the input, inside a list that starts at 0.
        var input = Hex.Decode("0xc4 01 820001".Replace(" ", "", StringComparison.Ordinal));
        var exception = Assert.Throws<RlpException>(() =>
        {
            var list = new RlpReader(input).ReadList();
            list.ReadUInt64();
            list.ReadUInt64();
        });
        Assert.Contains("at byte 2", exception.Message, StringComparison.Ordinal);
    }

    private static void Apply(byte[] input, Read read)
    {
        var reader = new RlpReader(input);
        switch (read)
        {
            case Read.Bytes:
                reader.ReadBytes();
                break;
            case Read.UInt64:
                reader.ReadUInt64();
                break;
            case Read.BigInteger:
                reader.ReadBigInteger();
                break;
            case Read.Hash:
                reader.ReadHash256();
                break;
            case Read.Address:
                reader.ReadAddress();
                break;
            case Read.List:
                reader.ReadList();
                break;
            case Read.Raw:
                reader.ReadRawItem();
                break;
            case Read.BytesThenEnd:
                reader.ReadBytes();
                reader.EnsureEnd();
                break;
            case Read.FirstItemOfList:
                reader.ReadList().ReadBytes();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(read));
        }
    }

    internal static string Repeat(string hexByte, int count) => string.Concat(Enumerable.Repeat(hexByte, count));
}
