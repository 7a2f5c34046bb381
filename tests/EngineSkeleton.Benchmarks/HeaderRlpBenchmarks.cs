using BenchmarkDotNet.Attributes;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Benchmarks;

/// <summary>
/// Encode and decode of the last Prague header of the execution-apis chain (21 fields). Decode includes the
/// keccak256 of the received bytes (asked for at once, as every received header is); Keccak_of_header isolates that.
/// </summary>
[MemoryDiagnoser]
public class HeaderRlpBenchmarks
{
    private BlockHeader _header = null!;
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        var chain = Block.DecodeConcatenated(File.ReadAllBytes(FindChainRlp()));
        _header = chain.Last(b => b.Header.RequestsHash.HasValue).Header;
        _encoded = _header.Encode();
    }

    [Benchmark]
    public byte[] Encode() => _header.Encode();

    [Benchmark]
    public Hash256 Decode_with_hash() => BlockHeader.Decode(_encoded).Hash;

    [Benchmark]
    public Hash256 Keccak_of_header() => Keccak256.Hash(_encoded);

    /// <summary>
    /// BenchmarkDotNet runs each benchmark from a generated project in its own folder, so look for the test data
    /// next to the binaries first and then up the tree towards the repository.
    /// </summary>
    private static string FindChainRlp()
    {
        var relative = Path.Combine("testdata", "execution-apis", "chain.rlp");
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            foreach (var candidate in new[] { relative, Path.Combine("tests", relative) })
            {
                var path = Path.Combine(directory.FullName, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
