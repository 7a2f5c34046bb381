using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Testing.Chains;

/// <summary>The execution-apis test chain (tests/testdata/execution-apis), loaded once per test run.</summary>
public static class TestData
{
    private static readonly Lazy<byte[]> ChainBytesLazy = new(() => File.ReadAllBytes(PathOf("chain.rlp")));

    private static readonly Lazy<IReadOnlyList<Block>> ChainLazy = new(() => Block.DecodeConcatenated(ChainBytes));

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", file);

    /// <summary>chain.rlp as published: blocks 1..54 back to back.</summary>
    public static byte[] ChainBytes => ChainBytesLazy.Value;

    public static IReadOnlyList<Block> Chain => ChainLazy.Value;

    /// <summary>The head the execution-apis tests announce with forkchoiceUpdated (headfcu.json).</summary>
    public static Hash256 HeadHash
    {
        get
        {
            using var json = JsonDocument.Parse(File.ReadAllText(PathOf("headfcu.json")));
            var state = json.RootElement.GetProperty("params")[0];
            return Hash256.FromHex(state.GetProperty("headBlockHash").GetString()!);
        }
    }

    /// <summary>The last block of each header shape in the chain, for tests that need a real header of a fork.</summary>
    public static Block LastWhere(Func<BlockHeader, bool> predicate) => Chain.Last(b => predicate(b.Header));

    public static BlockHeader PragueHeader => LastWhere(h => h.RequestsHash.HasValue).Header;
}
