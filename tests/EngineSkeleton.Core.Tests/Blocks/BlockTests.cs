using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Blocks;

public sealed class BlockTests
{
    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "a typed transaction inside a block must be well formed", "0xc5c38205c0c0" },
        { "a body has at most three lists (transactions, ommers, withdrawals)", "0xc4c0c0c0c0" },
        { "a body has at least the transaction and ommer lists", "0xc1c0" },
        { "withdrawals are four-field lists", "0xc5c0c0c2c180" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void Malformed_bodies_are_refused(string proves, string hex)
    {
        Assert.NotEmpty(proves);
        var input = Hex.Decode(hex);
        Assert.Throws<RlpException>(() => BlockBody.Decode(input));
        Assert.False(BlockBody.TryDecode(input, out var body, out var error));
        Assert.Null(body);
        Assert.NotNull(error);
    }

    [Fact]
    public void Typed_transactions_are_unwrapped_from_their_RLP_string_and_wrapped_again()
    {
        var block = TestData.Chain.First(b => b.Body.Transactions.Any(t => t[0] == Transactions.SetCode));
        var typed = block.Body.Transactions.First(t => t[0] == Transactions.SetCode);
        Assert.True(Transactions.IsWellFormed(typed, out _));
        var encoded = block.Encode();
        var wrapped = RlpWriter.EncodeBytes(typed);
        Assert.True(encoded.AsSpan().IndexOf(wrapped) > 0);
    }

    [Fact]
    public void A_block_with_trailing_garbage_is_refused_by_TryDecode_without_throwing()
    {
        var encoded = TestData.Chain[^1].Encode();
        Assert.True(Block.TryDecode(encoded, out var block, out _));
        Assert.Equal(TestData.HeadHash, block.Hash);
        Assert.False(Block.TryDecode([.. encoded, 0x01], out block, out var error));
        Assert.Null(block);
        Assert.Contains("trailing", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_file_cut_short_is_refused()
    {
        var bytes = TestData.ChainBytes;
        Assert.Throws<RlpException>(() => Block.DecodeConcatenated(bytes.AsSpan(0, bytes.Length - 1)));
    }

    [Fact]
    public void Every_truncation_of_a_Prague_block_is_refused()
    {
        var encoded = TestData.Chain[^1].Encode();
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.False(Block.TryDecode(encoded.AsSpan(0, length), out _, out _));
        }
    }

    [Fact]
    public void Withdrawal_round_trips_through_its_RLP()
    {
        var withdrawal = TestData.Chain.SelectMany(b => b.Body.Withdrawals ?? []).First();
        Assert.Equal(withdrawal, Withdrawal.Decode(withdrawal.Encode()));
        Assert.Throws<RlpException>(() => Withdrawal.Decode([.. withdrawal.Encode(), 0x80]));
    }
}
