using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using Nethereum.Util;

namespace EngineSkeleton.Benchmarks;

/// <summary>
/// keccak256 of a 600-byte input (the size of a post-merge header) against .NET's OpenSSL-backed SHA3-256 on
/// the same bytes: same permutation, same rate, different padding, so the ratio measures our implementation.
/// docs/quality.md target: Keccak256 at ≥ 0.8× the speed of SHA3_256. Nethereum's Sha3Keccack is there for scale:
/// it is what a .NET Ethereum codebase would otherwise reach for.
/// </summary>
[MemoryDiagnoser]
public class KeccakBenchmarks
{
    private readonly byte[] _input = new byte[600];
    private readonly byte[] _output = new byte[32];
    private readonly Sha3Keccack _nethereum = new();

    [GlobalSetup]
    public void Setup()
    {
        new Random(600).NextBytes(_input);
        if (!SHA3_256.IsSupported)
        {
            throw new PlatformNotSupportedException("SHA3-256 is the yardstick; this platform's crypto lacks it");
        }
        if (!_nethereum.CalculateHash(_input).AsSpan().SequenceEqual(Keccak256.Hash(_input).Bytes))
        {
            throw new InvalidOperationException("Keccak256 and Nethereum disagree on the benchmark input");
        }
    }

    [Benchmark(Baseline = true)]
    public void Sha3_256_OpenSsl() => SHA3_256.HashData(_input, _output);

    [Benchmark]
    public void Keccak256_Span() => Keccak256.Hash(_input, _output);

    [Benchmark]
    public Hash256 Keccak256_Hash256() => Keccak256.Hash(_input);

    [Benchmark]
    public byte[] Nethereum_Sha3Keccack() => _nethereum.CalculateHash(_input);
}
