using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Payloads;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Payloads;

public sealed class PayloadConverterTests
{
    public static IEnumerable<object[]> PosBlocks() => ExecutionApisChain.PosNumbers();

    [Theory]
    [MemberData(nameof(PosBlocks))]
    public void A_proof_of_stake_block_rebuilt_from_its_payload_fields_has_its_hash(ulong number)
    {
        var block = ExecutionApisChain.At(number);
        var payload = PayloadConverter.FromBlock(block);

        var rebuilt = PayloadConverter.ToBlock(payload, block.Header.ParentBeaconBlockRoot, RequestsOf(block));

        Assert.Equal(block.Header.Hash, rebuilt.Header.Hash);
        Assert.Equal(block.Encode(), rebuilt.Encode());
    }

    [Theory]
    [MemberData(nameof(PosBlocks))]
    public void Changing_one_byte_of_a_payload_changes_the_rebuilt_hash(ulong number)
    {
        var block = ExecutionApisChain.At(number);
        var payload = PayloadConverter.FromBlock(block);
        var extra = payload.ExtraData.Length == 0 ? new byte[] { 1 } : [(byte)(payload.ExtraData[0] ^ 1), .. payload.ExtraData[1..]];

        var rebuilt = PayloadConverter.ToBlock(payload with { ExtraData = extra }, block.Header.ParentBeaconBlockRoot, RequestsOf(block));

        Assert.NotEqual(block.Header.Hash, rebuilt.Header.Hash);
    }

    [Fact]
    public void Requests_hash_of_no_requests_is_sha256_of_nothing()
    {
        Assert.Equal("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ExecutionRequests.EmptyHash.ToString());
        Assert.Equal(ExecutionRequests.EmptyHash, ExecutionRequests.Hash([]));
        Assert.Equal(ExecutionRequests.EmptyHash, ExecutionRequests.Hash([[0x01]])); // empty request data is skipped
    }

    /// <summary>
    /// The requests commitment a newPayloadV4 caller would compute from executionRequests. Every Prague/Osaka block
    /// of the chain but the fork block 45 has none (sha256 of nothing, computed here from an empty list); block 45's
    /// requests come from system contracts and cannot be read back from the block without executing it, so its own
    /// commitment is used.
    /// </summary>
    private static Hash256? RequestsOf(Block block)
    {
        if (block.Header.RequestsHash is not { } hash)
        {
            return null;
        }
        return block.Header.Number == 45 ? hash : ExecutionRequests.Hash([]);
    }
}
