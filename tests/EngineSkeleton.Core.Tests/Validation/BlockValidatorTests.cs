using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Validation;

public sealed class BlockValidatorTests
{
    private static readonly BlockValidator Validator = new(ExecutionApisChain.Spec);

    [Fact]
    public void Every_block_of_the_execution_apis_chain_is_valid_against_its_parent()
    {
        for (ulong n = 1; n <= (ulong)ExecutionApisChain.Blocks.Count; n++)
        {
            var result = Validator.Validate(ExecutionApisChain.At(n), ExecutionApisChain.At(n - 1).Header);
            Assert.True(result.IsValid, $"block {n}: {result.Error}");
        }
    }

    public static TheoryData<string, ulong, Func<Block, Block, Block>, string> BrokenRules => new()
    {
        { "a timestamp equal to the parent's is refused", 46, (b, p) => WithHeader(b, b.Header with { Timestamp = p.Header.Timestamp }), "timestamp" },
        { "gasUsed above gasLimit is refused", 46, (b, _) => WithHeader(b, b.Header with { GasUsed = b.Header.GasLimit + 1 }), "gasUsed" },
        { "a gas limit moving by parent/1024 is refused", 46, (b, p) => WithHeader(b, b.Header with { GasLimit = p.Header.GasLimit + (p.Header.GasLimit / 1024) }), "gasLimit" },
        { "a base fee one wei off is refused", 46, (b, _) => WithHeader(b, b.Header with { BaseFeePerGas = b.Header.BaseFeePerGas + 1 }), "baseFeePerGas" },
        { "extraData of 33 bytes is refused", 46, (b, _) => WithHeader(b, b.Header with { ExtraData = new byte[33] }), "extraData" },
        { "a non-zero nonce after the merge is refused", 46, (b, _) => WithHeader(b, b.Header with { Nonce = 1 }), "nonce" },
        { "a proof-of-work block after proof-of-stake is refused", 46, (b, _) => WithHeader(b, b.Header with { Difficulty = 1 }), "proof-of-work" },
        { "a wrong excessBlobGas is refused", 46, (b, _) => WithHeader(b, b.Header with { ExcessBlobGas = b.Header.ExcessBlobGas + 1 }), "excessBlobGas" },
        { "blobGasUsed not a multiple of the blob size is refused", 46, (b, _) => WithHeader(b, b.Header with { BlobGasUsed = 1 }), "blobGasUsed" },
        { "a Shanghai header without withdrawalsRoot is refused", 46, (b, _) => WithHeader(b, b.Header with { WithdrawalsRoot = null, BlobGasUsed = null, ExcessBlobGas = null, ParentBeaconBlockRoot = null, RequestsHash = null }), "withdrawalsRoot" },
        { "a Prague header without requestsHash is refused", 46, (b, _) => WithHeader(b, b.Header with { RequestsHash = null }), "requestsHash" },
        { "a number that does not follow the parent is refused", 46, (b, _) => WithHeader(b, b.Header with { Number = b.Header.Number + 1 }), "number" },
        { "ommers after the merge are refused", 46, (b, p) => new Block(b.Header, b.Body with { Ommers = [p.Header] }), "ommers" },
        { "a transaction list that does not match the root is refused", 46, (b, _) => new Block(b.Header, b.Body with { Transactions = [.. b.Body.Transactions.Skip(1)] }), "transactions" },
        { "withdrawals that do not match the root are refused", 46, (b, _) => new Block(b.Header, b.Body with { Withdrawals = [new Withdrawal(99, 1, Address.Zero, 5)] }), "withdrawals" },
        { "a proof-of-work body that does not match its ommers hash is refused", 10, (b, p) => new Block(b.Header, b.Body with { Ommers = [p.Header] }), "ommers" },
    };

    [Theory]
    [MemberData(nameof(BrokenRules))]
    public void A_block_breaking_one_stateless_rule_is_invalid(string because, ulong number, Func<Block, Block, Block> mutate, string errorMentions)
    {
        var parent = ExecutionApisChain.At(number - 1);
        var broken = mutate(ExecutionApisChain.At(number), parent);

        var result = Validator.Validate(broken, parent.Header);

        Assert.False(result.IsValid, because);
        Assert.Contains(errorMentions, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Expected_blob_hashes_must_equal_those_of_the_transactions()
    {
        var withBlobs = ExecutionApisChain.Blocks.First(b => b.Header.BlobGasUsed > 0);
        var parent = ExecutionApisChain.At(withBlobs.Header.Number - 1).Header;

        Assert.True(Validator.Validate(withBlobs, parent, ActualBlobHashes(withBlobs)).IsValid);
        Assert.False(Validator.Validate(withBlobs, parent, []).IsValid);
    }

    [Fact]
    public void Fake_exponential_matches_the_eip_4844_test_vectors()
    {
        Assert.Equal(1, BlobGas.FakeExponential(1, 0, 1));
        Assert.Equal(2, BlobGas.FakeExponential(1, 1, 1)); // e truncated by the integer series
        Assert.Equal(23, BlobGas.FakeExponential(2, 5, 2));
        Assert.Equal(542, BlobGas.FakeExponential(10, 8, 2));
        Assert.Equal(1, BlobGas.BaseFeePerBlobGas(0, 3_338_477));
    }

    private static List<Hash256> ActualBlobHashes(Block block)
    {
        var all = new List<Hash256>();
        foreach (var tx in block.Body.Transactions)
        {
            Assert.True(Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out _));
            all.AddRange(hashes);
        }
        return all;
    }

    /// <summary>A block with a changed header; re-decoded so no cached hash of the old header survives.</summary>
    private static Block WithHeader(Block block, BlockHeader header) => new(BlockHeader.Decode(header.Encode()), block.Body);
}
