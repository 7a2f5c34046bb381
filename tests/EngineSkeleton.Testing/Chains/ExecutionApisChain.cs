using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;

namespace EngineSkeleton.Testing.Chains;

/// <summary>
/// The ethereum/execution-apis test chain (tests/testdata/execution-apis, CC0): genesis through Osaka, blocks 1–35
/// proof-of-work, 36–54 proof-of-stake. Loaded once per test run.
/// </summary>
public static class ExecutionApisChain
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis");

    private static readonly Lazy<GethGenesis> LazyGenesis = new(() => GethGenesis.Load(Path.Combine(Directory, "genesis.json")));

    private static readonly Lazy<IReadOnlyList<Block>> LazyBlocks =
        new(() => Block.DecodeConcatenated(File.ReadAllBytes(Path.Combine(Directory, "chain.rlp"))));

    public static GethGenesis Genesis => LazyGenesis.Value;

    public static ChainSpec Spec => Genesis.Spec;

    /// <summary>Blocks 1..54 in order (index i holds block i+1).</summary>
    public static IReadOnlyList<Block> Blocks => LazyBlocks.Value;

    public static Block GenesisBlock => new(Genesis.Header, new BlockBody([], [], null));

    /// <summary>Block <paramref name="number"/>, 0 being genesis.</summary>
    public static Block At(ulong number) => number == 0 ? GenesisBlock : Blocks[(int)number - 1];

    public static IEnumerable<object[]> PosNumbers() =>
        Blocks.Where(b => b.Header.Difficulty.IsZero).Select(b => new object[] { b.Header.Number });
}
