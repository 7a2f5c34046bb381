using EngineSkeleton.Blocks;
using EngineSkeleton.Payloads;
using EngineSkeleton.Tests.Support;

namespace EngineSkeleton.Tests.Payloads;

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
    /// The chain's Prague/Osaka blocks carry no execution requests (their requestsHash is the empty one, checked
    /// here), so an empty list rebuilds them; before Prague there is no list at all.
    /// </summary>
    private static byte[][]? RequestsOf(Block block)
    {
        if (block.Header.RequestsHash is not { } hash)
        {
            return null;
        }
        Assert.Equal(ExecutionRequests.EmptyHash, hash);
        return [];
    }
}
