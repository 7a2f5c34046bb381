using BenchmarkDotNet.Attributes;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Benchmarks;

/// <summary>
/// A header sync's hashing: 512 inputs of post-merge header size (600–620 bytes, five permutations each), one at a
/// time against <see cref="Keccak256.HashAll(IReadOnlyList{byte[]}, Span{Hash256})"/>, which hashes four at once with AVX2. Times are per input
/// (OperationsPerInvoke), so they compare with <see cref="KeccakBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class KeccakBatchBenchmarks
{
    private const int Batch = 512;
    private readonly byte[][] _inputs = new byte[Batch][];
    private readonly Hash256[] _hashes = new Hash256[Batch];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(512);
        for (var i = 0; i < Batch; i++)
        {
            _inputs[i] = new byte[random.Next(600, 621)];
            random.NextBytes(_inputs[i]);
        }
        Keccak256.HashAll(_inputs, _hashes);
        for (var i = 0; i < Batch; i++)
        {
            if (_hashes[i] != Keccak256.Hash(_inputs[i]))
            {
                throw new InvalidOperationException($"HashAll and Hash disagree on input {i}");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public void One_at_a_time()
    {
        for (var i = 0; i < Batch; i++)
        {
            _hashes[i] = Keccak256.Hash(_inputs[i]);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Four_at_a_time() => Keccak256.HashAll(_inputs, _hashes);
}
