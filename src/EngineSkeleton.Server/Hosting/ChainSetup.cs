using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;

namespace EngineSkeleton.Server.Hosting;

/// <summary>The chain this node follows and the block it anchors on: a geth genesis file, or a built-in network.</summary>
internal sealed record ChainSetup(ChainSpec Spec, Block Anchor)
{
    /// <exception cref="GenesisException">The genesis file or network name cannot be used.</exception>
    public static ChainSetup From(NodeOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Genesis))
        {
            var genesis = GethGenesis.Load(options.Genesis);
            return new ChainSetup(genesis.Spec, AnchorBlock(genesis.Spec, genesis.Header));
        }
        var spec = Networks.ByName(options.Network)
            ?? throw new GenesisException($"--network '{options.Network}' is not one of {string.Join(", ", Networks.All.Select(n => n.Name))}");
        return new ChainSetup(spec, AnchorBlock(spec, BuiltInGenesis.For(spec)));
    }

    /// <summary>A genesis block has no transactions and no ommers; from Shanghai on it has an empty withdrawals list.</summary>
    private static Block AnchorBlock(ChainSpec spec, BlockHeader header) =>
        new(header, new BlockBody([], [], header.WithdrawalsRoot is null ? null : []));
}
