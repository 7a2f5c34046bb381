using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Storage.Chain;

/// <summary>
/// A Bloom filter of the block hashes of one closed epoch: a by-hash lookup seeks only the epochs whose filter may
/// hold the hash. 10 bits a hash of a full epoch and 7 probes: ~0.8 % false positives an epoch (80 KB an epoch of
/// 65,536 blocks; 33 MB for mainnet's ~408 epochs). A false positive costs one index seek that finds nothing.
/// </summary>
internal sealed class EpochBloom
{
    /// <summary>Bits a hash of a full epoch: (1 − e^(−7/10))^7 ≈ 0.8 % false positives.</summary>
    private const int BitsPerHash = 10;

    /// <summary>Probes a hash: optimal for 10 bits a hash is 10 · ln 2 ≈ 6.9.</summary>
    private const int Probes = 7;

    private readonly ulong[] _words;
    private readonly ulong _bits;

    private EpochBloom(long epoch, ulong[] words)
    {
        Epoch = epoch;
        _words = words;
        _bits = (ulong)words.Length * 64;
    }

    public long Epoch { get; }

    public static EpochBloom Empty(long epoch, int epochBits) =>
        new(epoch, new ulong[Math.Max(1, (BitsPerHash << epochBits) / 64)]);

    public static EpochBloom FromBytes(long epoch, byte[] bytes) => new(epoch, MemoryMarshal.Cast<byte, ulong>(bytes).ToArray());

    public byte[] ToBytes() => MemoryMarshal.AsBytes(_words.AsSpan()).ToArray();

    public EpochBloom Copy() => new(Epoch, (ulong[])_words.Clone());

    /// <summary>Sets the hash's bits. Only ever adds bits, so a reader racing it at worst misses a hash being added.</summary>
    public void Add(Hash256 hash)
    {
        var bytes = hash.Bytes;
        for (var i = 0; i < Probes; i++)
        {
            var bit = Bit(bytes, i);
            _words[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    public bool MayContain(Hash256 hash)
    {
        var bytes = hash.Bytes;
        for (var i = 0; i < Probes; i++)
        {
            var bit = Bit(bytes, i);
            if ((_words[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Probe <paramref name="i"/>'s bit: a block hash is a Keccak output, uniform already, so its 32-bit words are the
    /// probes' hashes, mapped onto the filter by multiply-shift.
    /// </summary>
    private ulong Bit(ReadOnlySpan<byte> hash, int i) =>
        (BinaryPrimitives.ReadUInt32LittleEndian(hash[(4 * i)..]) * _bits) >> 32;
}
