using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Network.Tests.DevP2p.Eth;

/// <summary>
/// Every eth message encodes, decodes through <see cref="EthMessages"/> by its code and encodes again to the same
/// bytes, for the version(s) that define it; block data comes from the execution-apis test chain, whose headers
/// take every shape from Frontier to Prague and whose bodies come with and without withdrawals.
/// </summary>
public sealed class EthMessageRoundTripTests
{
    private static readonly IReadOnlyList<Block> Chain = [ExecutionApisChain.GenesisBlock, .. ExecutionApisChain.Blocks];

    private static readonly Hash256 A = Hash256.FromHex("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

    private static readonly Hash256 B = Hash256.FromHex("0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");

    private static readonly byte[][] ChainTransactions = [.. Chain.SelectMany(b => b.Body.Transactions)];

    /// <summary>Messages by the sentence naming them, with the versions that define them.</summary>
    private static readonly Dictionary<string, (int[] Versions, EthMessage Message)> Cases = new()
    {
        ["eth/68 status"] = ([68], new StatusMessage68(68, 1, 17_179_869_184, B, A, new ForkId(0xfc64ec04, 1_150_000))),
        ["eth/69 status"] = ([69], new StatusMessage69(69, 560_048, A, new ForkId(0x23aa1351, 0), new BlockRange(0, 1_000_000, B))),
        ["block range update"] = ([69], new BlockRangeUpdateMessage(new BlockRange(15_537_394, ulong.MaxValue, B))),
        ["header query by number, forward"] = ([68, 69], new GetBlockHeadersMessage(1, HeaderOrigin.ByNumber(100), 192, 0, false)),
        ["header query by hash, reverse, skipping"] = ([68, 69], new GetBlockHeadersMessage(ulong.MaxValue, HeaderOrigin.ByHash(A), 512, 7, true)),
        ["header query from genesis"] = ([68, 69], new GetBlockHeadersMessage(0, HeaderOrigin.ByNumber(0), 1, 0, false)),
        ["every header of the test chain"] = ([68, 69], new BlockHeadersMessage(3, [.. Chain.Select(b => b.Header)])),
        ["no headers"] = ([68, 69], new BlockHeadersMessage(4, [])),
        ["body query"] = ([68, 69], new GetBlockBodiesMessage(5, [A, B])),
        ["every body of the test chain"] = ([68, 69], new BlockBodiesMessage(6, [.. Chain.Select(b => b.Body)])),
        ["no bodies"] = ([68, 69], new BlockBodiesMessage(6, [])),
        ["block hash announcement"] = ([68], new NewBlockHashesMessage([new(A, 1), new(B, 1_000_000_000)])),
        ["new block"] = ([68], new NewBlockMessage(Chain[^1], 4_732_352)),
        ["transactions of the test chain"] = ([68, 69], new TransactionsMessage(ChainTransactions)),
        ["pooled transaction announcement"] = ([68, 69], new NewPooledTransactionHashesMessage([0x00, 0x03], [120, 131_072], [A, B])),
        ["pooled transaction query"] = ([68, 69], new GetPooledTransactionsMessage(7, [A])),
        ["pooled transactions"] = ([68, 69], new PooledTransactionsMessage(8, ChainTransactions)),
        ["no pooled transactions"] = ([68, 69], PooledTransactionsMessage.Empty(8)),
        ["receipt query"] = ([68, 69], new GetReceiptsMessage(9, [A, B])),
        ["no receipts"] = ([68, 69], ReceiptsMessage.Empty(10)),
        ["opaque receipt lists"] = ([68, 69], new ReceiptsMessage(11, [[0xc0], [0xc3, 0x01, 0x02, 0x03]])),
    };

    public static TheoryData<string> Names() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_decodes_by_code_and_encodes_to_the_same_bytes(string what)
    {
        var (versions, message) = Cases[what];

        foreach (var version in versions)
        {
            var encoded = message.Encode();
            var decoded = EthMessages.Decode(version, message.Code, encoded);

            Assert.IsType(message.GetType(), decoded);
            Assert.Equal(encoded, decoded.Encode());
        }
    }

    [Fact]
    public void Decoded_headers_are_the_chain_s_headers_and_hash_to_its_hashes()
    {
        var message = new BlockHeadersMessage(3, [.. Chain.Select(b => b.Header)]);

        var decoded = BlockHeadersMessage.Decode(message.Encode());

        Assert.Equal(3ul, decoded.RequestId);
        Assert.Equal(Chain.Select(b => b.Header), decoded.Headers);
        Assert.Equal(Chain.Select(b => b.Hash), decoded.Headers.Select(h => h.Hash));
    }

    [Fact]
    public void Decoded_bodies_are_the_chain_s_bodies_with_and_without_withdrawals()
    {
        var decoded = BlockBodiesMessage.Decode(new BlockBodiesMessage(6, [.. Chain.Select(b => b.Body)]).Encode());

        Assert.Equal(Chain.Select(b => b.Body), decoded.Bodies);
        Assert.Contains(decoded.Bodies, b => b.Withdrawals is null);
        Assert.Contains(decoded.Bodies, b => b.Withdrawals is { Count: > 0 });
        Assert.Contains(decoded.Bodies, b => b.Transactions.Count > 0);
    }

    [Fact]
    public void Decoded_transactions_keep_legacy_and_typed_ones_as_their_canonical_bytes()
    {
        var decoded = TransactionsMessage.Decode(new TransactionsMessage(ChainTransactions).Encode());

        Assert.Equal(ChainTransactions, decoded.Transactions);
        Assert.Contains(decoded.Transactions, tx => tx[0] >= 0xc0);
        Assert.Contains(decoded.Transactions, tx => tx[0] < 0x80);
    }

    [Fact]
    public void A_header_query_keeps_its_fields_and_serves_at_most_1024()
    {
        var decoded = GetBlockHeadersMessage.Decode(new GetBlockHeadersMessage(2, HeaderOrigin.ByHash(A), 100_000, 3, true).Encode());

        Assert.Equal(A, decoded.Origin.Hash);
        Assert.Equal((100_000ul, 3ul, true), (decoded.Amount, decoded.Skip, decoded.Reverse));
        Assert.Equal(1024, decoded.AmountToServe);
    }

    [Fact]
    public void A_header_query_by_hand_is_request_id_then_origin_amount_skip_reverse()
    {
        // [1, [100, 192, 0, 1]]: the query's items are 0x64, 0x81c0, 0x80 (zero), 0x01: five bytes.
        const string expected = "c7" + "01" + "c5" + "64" + "81c0" + "80" + "01";

        var message = GetBlockHeadersMessage.Request(1, HeaderOrigin.ByNumber(100), 192, 0, reverse: true);

        Assert.Equal(expected, Convert.ToHexStringLower(message.Encode()));
    }

    [Theory]
    [InlineData(68)]
    [InlineData(69)]
    public void The_empty_receipts_answer_is_the_request_id_and_an_empty_list(int version)
    {
        var decoded = (ReceiptsMessage)EthMessages.Decode(version, EthMessageCode.Receipts, Convert.FromHexString("c207c0"));

        Assert.Equal("c207c0", Convert.ToHexStringLower(ReceiptsMessage.Empty(7).Encode()));
        Assert.Equal(7ul, decoded.RequestId);
        Assert.Empty(decoded.BlockReceipts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void Our_header_requests_ask_for_1_to_1024_headers(int amount)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GetBlockHeadersMessage.Request(1, HeaderOrigin.ByNumber(0), amount, 0, false));
    }

    [Fact]
    public void Our_body_requests_ask_for_at_most_1024_bodies()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GetBlockBodiesMessage.Request(1, [.. Enumerable.Repeat(A, 1025)]));
        Assert.Equal(1024, GetBlockBodiesMessage.Request(1, [.. Enumerable.Repeat(A, 1024)]).Hashes.Count);
    }

    [Fact]
    public void Message_spaces_match_geth_s_protocol_lengths()
    {
        Assert.Equal(17, EthProtocol.MessageSpace(68));
        Assert.Equal(18, EthProtocol.MessageSpace(69));
        Assert.True(EthMessageCode.IsDefined(69, EthMessageCode.BlockRangeUpdate));
        Assert.False(EthMessageCode.IsDefined(68, EthMessageCode.BlockRangeUpdate));
        Assert.False(EthMessageCode.IsDefined(69, EthMessageCode.NewBlock));
    }
}
