using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Tests.Blocks;

public sealed class TransactionsTests
{
    public static TheoryData<string, string, string> Malformed => new()
    {
        { "no bytes are no transaction", "0x", "empty transaction" },
        { "0x05 is not a transaction type this engine knows", "0x05c0", "unknown transaction type 0x05" },
        { "0x00 does not start a typed envelope (legacy starts with a list)", "0x00c0", "unknown transaction type 0x00" },
        { "a first byte in 0x80..0xbf is an RLP string, neither legacy nor typed", "0x80", "unknown transaction type 0x80" },
        { "a type byte alone has no payload", "0x02", "end of the input" },
        { "a typed payload is one list, not a string", "0x0283010203", "expected a list" },
        { "a typed payload is exactly one list, nothing after it", "0x02" + TwelveFields + "80", "trailing" },
        { "a legacy transaction has 9 fields, not 8", "0xc8" + "8080808080808080", "has 9 fields, this one has 8" },
        { "a dynamic-fee transaction has 12 fields, not 11", "0x02cb" + "8080808080808080808080", "has 12 fields, this one has 11" },
        { "nested items must be canonical too", "0x02cd" + "8080808080808080808080" + "8105", "encoded as itself" },
        { "a tower of nested lists deeper than any field is refused before it can exhaust the stack", "0x02" + Tower, "nested deeper" },
    };

    /// <summary>A list of twelve empty strings: the shape of a type-2 transaction.</summary>
    private const string TwelveFields = "cc808080808080808080808080";

    /// <summary>12 fields: eleven empty strings, then lists nested 20 deep (0xd3 wraps 0xd2 ... wraps 0xc0).</summary>
    private static string Tower =>
        "df" + string.Concat(Enumerable.Repeat("80", 11))
        + string.Concat(Enumerable.Range(0, 20).Select(i => $"{0xc0 + 19 - i:x2}"));

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_transactions_are_not_well_formed(string proves, string hex, string reason)
    {
        Assert.NotEmpty(proves);
        var tx = Hex.Decode(hex);
        Assert.False(Transactions.IsWellFormed(tx, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.False(Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out _));
        Assert.Empty(hashes);
    }

    [Fact]
    public void The_tower_case_is_canonical_RLP_with_12_fields_so_only_the_depth_bound_refuses_it()
    {
        var reader = new RlpReader(Hex.Decode("0x" + Tower));
        var fields = reader.ReadList();
        reader.EnsureEnd();
        Assert.Equal(12, fields.CountItems());
        Assert.True(Transactions.IsWellFormed(Hex.Decode("0x02" + TwelveFields), out _));
    }

    [Theory]
    [InlineData("a list first byte is a legacy transaction, type 0", "0xc0", true, 0)]
    [InlineData("0x03 is the blob type", "0x03c0", true, 3)]
    [InlineData("0x7f is the last byte EIP-2718 reserves for types", "0x7f", true, 0x7f)]
    [InlineData("an empty input has no type", "0x", false, 0)]
    [InlineData("0x00 is not a typed envelope", "0x00", false, 0)]
    [InlineData("0x80 is an RLP string prefix, not a type", "0x80", false, 0)]
    public void Type_comes_from_the_first_byte(string proves, string hex, bool known, int expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(known, Transactions.TryGetType(Hex.Decode(hex), out var type));
        Assert.Equal((byte)expected, type);
    }

    [Fact]
    public void Non_blob_transactions_have_no_versioned_hashes()
    {
        var tx = Hex.Decode("0x02" + TwelveFields);
        Assert.True(Transactions.IsWellFormed(tx, out _));
        Assert.True(Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out var error), error);
        Assert.Empty(hashes);
    }

    [Fact]
    public void A_blob_transaction_with_a_short_versioned_hash_is_refused()
    {
        // 14 fields, field 10 holding one 31-byte string where a 32-byte hash belongs.
        var hash = RlpWriter.EncodeBytes(new byte[31]);
        var hashes = new byte[RlpWriter.LengthOfList(hash.Length)];
        var w = new RlpWriter(hashes);
        w.WriteListHeader(hash.Length);
        w.WriteRaw(hash);
        var fields = Enumerable.Repeat(new byte[] { 0x80 }, 10).Append(hashes).Concat(Enumerable.Repeat(new byte[] { 0x80 }, 3)).ToList();
        var payload = fields.Sum(f => f.Length);
        var tx = new byte[1 + RlpWriter.LengthOfList(payload)];
        tx[0] = Transactions.Blob;
        var writer = new RlpWriter(tx.AsSpan(1));
        writer.WriteListHeader(payload);
        foreach (var field in fields)
        {
            writer.WriteRaw(field);
        }

        Assert.True(Transactions.IsWellFormed(tx, out _));
        Assert.False(Transactions.TryGetBlobVersionedHashes(tx, out _, out var error));
        Assert.Contains("32 bytes", error, StringComparison.Ordinal);
    }
}
