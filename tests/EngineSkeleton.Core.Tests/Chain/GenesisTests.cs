using EngineSkeleton.Core.Chain;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Chain;

public sealed class GenesisTests
{
    [Fact]
    public void Execution_apis_genesis_hashes_to_the_parent_of_block_one()
    {
        var genesis = ExecutionApisChain.Genesis;

        Assert.Equal(ExecutionApisChain.Blocks[0].Header.ParentHash, genesis.Header.Hash);
        Assert.Equal(genesis.Header.Hash, genesis.Spec.GenesisHash);
        Assert.Equal(3_503_995_874_084_926UL, genesis.Spec.ChainId);
    }

    [Fact]
    public void Execution_apis_genesis_reads_the_fork_schedule_and_blob_schedule()
    {
        var spec = ExecutionApisChain.Spec;

        Assert.Equal(27UL, spec.LondonBlock);
        Assert.Equal(Fork.Paris, spec.ForkAt(389));
        Assert.Equal(Fork.Shanghai, spec.ForkAt(390));
        Assert.Equal(Fork.Cancun, spec.ForkAt(420));
        Assert.Equal(Fork.Prague, spec.ForkAt(450));
        Assert.Equal(Fork.Osaka, spec.ForkAt(480));
        Assert.Equal(new BlobParameters(10, 15, 8_346_193), spec.BlobParametersAt(510));
        Assert.Equal(new BlobParameters(14, 21, 11_684_671), spec.BlobParametersAt(10_000));
        Assert.Null(spec.BlobParametersAt(419));
    }

    [Theory]
    [InlineData("mainnet")]
    [InlineData("sepolia")]
    [InlineData("hoodi")]
    public void Built_in_genesis_header_hashes_to_the_published_genesis_hash(string network)
    {
        var spec = Networks.ByName(network)!;

        Assert.Equal(spec.GenesisHash, BuiltInGenesis.For(spec).Hash);
    }

    [Theory]
    [InlineData("{}", "no \"config\"")]
    [InlineData("{\"config\":{}}", "chainId")]
    [InlineData("{\"config\":{\"chainId\":1},\"alloc\":{\"0xzz\":{}}}", "not an address")]
    [InlineData("{\"config\":{\"chainId\":1},\"gasLimit\":\"0xq\"}", "not a hex number")]
    [InlineData("{\"config\":{\"chainId\":1,\"bpo1Time\":5}}", "blobSchedule.bpo1")]
    [InlineData("not json", "not valid JSON")]
    public void Malformed_genesis_is_refused_with_a_clear_message(string json, string expected)
    {
        var error = Assert.Throws<GenesisException>(() => GethGenesis.Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
