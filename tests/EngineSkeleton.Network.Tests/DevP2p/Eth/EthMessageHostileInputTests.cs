using EngineSkeleton.Network.DevP2p.Eth;

namespace EngineSkeleton.Network.Tests.DevP2p.Eth;

/// <summary>
/// What a hostile or broken peer can send: every case is refused with <see cref="EthMessageException"/> whose
/// message names the eth message and the reason. Inputs are built with the small RLP helpers below, written from
/// the RLP rules, not with the codec under test.
/// </summary>
public sealed class EthMessageHostileInputTests
{
    private static readonly string Hash = new('a', 64);

    public static TheoryData<string, int, byte, string, string> Cases() => new()
    {
        // Limits: counted before any item is decoded (the items here are empty lists, which no header, body or
        // transaction is), and no further than one past the limit.
        { "1,025 headers", 69, EthMessageCode.BlockHeaders, List("01", List(Repeat("c0", 1025))), "more than 1,024 headers" },
        { "1,025 bodies", 69, EthMessageCode.BlockBodies, List("01", List(Repeat("c0", 1025))), "more than 1,024 bodies" },
        { "1,025 block receipt lists", 68, EthMessageCode.Receipts, List("01", List(Repeat("c0", 1025))), "more than 1,024 block receipt lists" },
        { "5,001 transactions", 69, EthMessageCode.Transactions, List(Repeat("c0", 5001)), "more than 5,000 transactions" },
        { "a list claiming more bytes than the message has", 69, EthMessageCode.BlockHeaders, "c5" + "01" + "f8ff" + "c0c0", "overruns" },
        { "a length of four gigabytes", 69, EthMessageCode.BlockBodies, "c7" + "01" + "fbffffffff" + "c0", "beyond any input" },

        // Wrong shapes.
        { "an empty list for a header", 69, EthMessageCode.BlockHeaders, List("01", List("c0")), "a header has 15, 16, 17, 20 or 21 fields" },
        { "a legacy transaction of no fields in a body", 69, EthMessageCode.BlockBodies, List("01", List(List(List("c0"), "c0", "c0"))), "transaction 0 is malformed" },
        { "a header query without the request id (eth/65 form)", 69, EthMessageCode.GetBlockHeaders, List("64", "81c0", "80", "01"), "expected a list, found a string" },
        { "a header query from a 20-byte origin", 68, EthMessageCode.GetBlockHeaders, List("01", List(Str(new string('b', 40)), "01", "80", "80")), "origin of 20 bytes is neither a block number" },
        { "a header query from a list", 68, EthMessageCode.GetBlockHeaders, List("01", List("c0", "01", "80", "80")), "expected a string, found a list" },
        { "a header query whose reverse is 2", 69, EthMessageCode.GetBlockHeaders, List("01", List("64", "01", "80", "02")), "reverse is 2, not 0 or 1" },
        { "a header query with a fifth field", 69, EthMessageCode.GetBlockHeaders, List("01", List("64", "01", "80", "80", "80")), "trailing" },
        { "a request id of nine bytes", 69, EthMessageCode.GetBlockBodies, List("89" + "010000000000000000", "c0"), "exceeds the 8-byte limit" },
        { "a 31-byte hash in a body query", 69, EthMessageCode.GetBlockBodies, List("01", List(Str(Hash[2..]))), "expected a string of 32 bytes, found 31" },
        { "a typed transaction of type 0", 69, EthMessageCode.Transactions, List(Str("00c0")), "transaction 0 is neither a legacy list nor an EIP-2718 typed transaction" },
        { "a typed transaction of type 0x80", 69, EthMessageCode.PooledTransactions, List("01", List(Str("80c0"))), "neither a legacy list nor" },
        { "an empty string for a transaction", 69, EthMessageCode.Transactions, List("80"), "neither a legacy list nor" },
        { "a typed transaction with bytes after its list", 68, EthMessageCode.Transactions, List(Str("02c0c0")), "trailing" },
        { "announcements whose lists differ in length", 69, EthMessageCode.NewPooledTransactionHashes, List(Str("0002"), List("01"), List(Str(Hash))), "2 types, 1 sizes and 1 hashes: the three must match" },
        { "an announced size beyond 32 bits", 68, EthMessageCode.NewPooledTransactionHashes, List("02", List("850100000000"), List(Str(Hash))), "size 4294967296 does not fit in 32 bits" },
        { "a block's receipts that are not a list", 69, EthMessageCode.Receipts, List("01", List("80")), "the receipts of block 0 are not a list" },
        { "a block range with a short hash", 69, EthMessageCode.BlockRangeUpdate, List("80", "01", Str("aa")), "expected a string of 32 bytes, found 1" },
        { "a block announcement of three fields", 68, EthMessageCode.NewBlockHashes, List(List(Str(Hash), "01", "01")), "trailing" },
        { "a new block without its total difficulty", 68, EthMessageCode.NewBlock, List(List("c0", "c0", "c0")), "a header has 15, 16, 17, 20 or 21 fields" },
        { "a message of two items where one is expected", 69, EthMessageCode.Transactions, List() + List(), "trailing" },
        { "nothing at all", 69, EthMessageCode.Status, "", "end of the input" },

        // Codes the version does not define.
        { "BlockRangeUpdate on eth/68", 68, EthMessageCode.BlockRangeUpdate, List("80", "01", Str(Hash)), "not a message of eth/68" },
        { "NewBlock on eth/69", 69, EthMessageCode.NewBlock, List(), "not a message of eth/69" },
        { "NewBlockHashes on eth/69", 69, EthMessageCode.NewBlockHashes, List(), "not a message of eth/69" },
        { "code 0x0b (GetNodeData's old neighbour)", 68, 0x0b, List(), "not a message of eth/68" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_input_is_refused_with_the_message_and_the_reason(string what, int version, byte code, string hex, string reason)
    {
        var error = Assert.Throws<EthMessageException>(() => EthMessages.Decode(version, code, Convert.FromHexString(hex)));

        Assert.StartsWith($"eth {EthMessageCode.NameOf(code)}: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(reason, StringComparison.Ordinal), $"{what}: {error.Message}");
        Assert.False(EthMessages.TryDecode(version, code, Convert.FromHexString(hex), out _, out var said));
        Assert.Equal(error.Message, said);
    }

    [Fact]
    public void A_message_over_10_MiB_is_refused_before_it_is_read()
    {
        var payload = new byte[EthLimits.MaxMessageSize + 1];

        var error = Assert.Throws<EthMessageException>(() => EthMessages.Decode(69, EthMessageCode.BlockBodies, payload));

        Assert.Equal("eth BlockBodies: 10,485,761 bytes, over the 10,485,760-byte limit", error.Message);
    }

    [Fact]
    public void Exactly_1024_headers_pass_the_count_and_reach_header_decoding()
    {
        var hex = List("01", List(Repeat("c0", 1024)));

        var error = Assert.Throws<EthMessageException>(() => EthMessages.Decode(69, EthMessageCode.BlockHeaders, Convert.FromHexString(hex)));

        Assert.Contains("a header has 15", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An RLP string of these hex bytes: a single byte below 0x80 is itself, else 0x80+n (n &lt; 56) or 0xb7+k, n.</summary>
    private static string Str(string hex) =>
        hex.Length == 2 && Convert.FromHexString(hex)[0] < 0x80 ? hex : Prefix(0x80, hex.Length / 2) + hex;

    /// <summary>An RLP list of these encoded items: 0xc0+n (n &lt; 56) or 0xf7+k, then n in k bytes.</summary>
    private static string List(params string[] items)
    {
        var payload = string.Concat(items);
        return Prefix(0xc0, payload.Length / 2) + payload;
    }

    private static string Prefix(int shortBase, int length)
    {
        if (length < 56)
        {
            return (shortBase + length).ToString("x2", System.Globalization.CultureInfo.InvariantCulture);
        }
        var digits = length.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        digits = digits.Length % 2 == 0 ? digits : "0" + digits;
        return (shortBase + 55 + (digits.Length / 2)).ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + digits;
    }

    private static string[] Repeat(string item, int count) => [.. Enumerable.Repeat(item, count)];
}
