using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Benchmarks.DevP2p;

/// <summary>
/// A <see cref="GeneratedChain"/> as a devp2p node serves it, up to <paramref name="head"/>: headers by number from
/// the generator (built on each read, as <c>InProcessPeer</c> serves them), no bodies (the skeleton phase asks for
/// none). The syncing side uses the same type with the head at the genesis: same spec, so Status and fork id agree.
/// </summary>
internal sealed class GeneratedEthChain(IReadOnlyList<BlockHeader> chain, ulong head) : IEthChain
{
    // Hash → number, filled from the head down as lookups need it (InProcessPeer's rule): a by-hash question is about
    // a recent block, and a full index of 1,000,000 hashes would add ~80 MB to the RSS measured.
    private readonly Lock _indexLock = new();
    private readonly Dictionary<Hash256, ulong> _numbers = [];
    private long _nextToIndex = (long)head;

    public ChainSpec Spec { get; } = GeneratedChain.SpecFor(chain);

    public BlockHeader Head { get; } = chain[(int)head];

    public BigInteger HeadTotalDifficulty => BigInteger.One;

    public ulong Earliest => 0;

    public BlockHeader? GetHeader(ulong number) => number <= head ? chain[(int)number] : null;

    public BlockHeader? GetHeader(Hash256 hash)
    {
        lock (_indexLock)
        {
            if (_numbers.TryGetValue(hash, out var known))
            {
                return chain[(int)known];
            }
            while (_nextToIndex >= 0)
            {
                var header = chain[(int)_nextToIndex--];
                _numbers[header.Hash] = header.Number;
                if (header.Hash == hash)
                {
                    return header;
                }
            }
            return null;
        }
    }

    public BlockBody? GetBody(Hash256 hash) => null;
}
