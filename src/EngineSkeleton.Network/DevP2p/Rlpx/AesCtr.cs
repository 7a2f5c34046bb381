using System.Buffers.Binary;
using System.Security.Cryptography;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// AES in CTR mode as Go's crypto/cipher.NewCTR runs it, which is what the other side of every RLPx connection does:
/// the IV is the first counter block, incremented as one 128-bit big-endian number per block, and the key stream
/// carries over between calls, so a message may be transformed in any number of pieces. .NET has no CTR mode; the key
/// stream is AES-ECB of a batch of counter blocks, one ECB call per <see cref="BatchBlocks"/> blocks. The key length
/// picks AES-128 (ECIES) or AES-256 (frames). Not thread-safe: one instance per direction.
/// </summary>
internal sealed class AesCtr : IDisposable
{
    public const int BlockSize = 16;

    /// <summary>Counter blocks encrypted per ECB call: 4 KiB of key stream, so a 1 MB frame takes 256 calls.</summary>
    private const int BatchBlocks = 256;

    private readonly Aes _aes;
    private readonly byte[] _counters = new byte[BatchBlocks * BlockSize];
    private readonly byte[] _keyStream = new byte[BatchBlocks * BlockSize];
    private ulong _counterHigh;
    private ulong _counterLow;
    private int _keyStreamStart;
    private int _keyStreamEnd;

    public AesCtr(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length is not (16 or 32))
        {
            throw new ArgumentException($"AES-CTR takes a 16- or 32-byte key, got {key.Length}", nameof(key));
        }
        if (iv.Length != BlockSize)
        {
            throw new ArgumentException($"AES-CTR takes a {BlockSize}-byte IV, got {iv.Length}", nameof(iv));
        }
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _counterHigh = BinaryPrimitives.ReadUInt64BigEndian(iv);
        _counterLow = BinaryPrimitives.ReadUInt64BigEndian(iv[8..]);
    }

    /// <summary>Encrypts or decrypts (the same operation) <paramref name="data"/> in place.</summary>
    public void Transform(Span<byte> data) => Transform(data, data);

    /// <summary>Encrypts or decrypts <paramref name="input"/> into <paramref name="output"/> (which may be the same span).</summary>
    public void Transform(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (output.Length < input.Length)
        {
            throw new ArgumentException($"output of {output.Length} bytes for {input.Length} bytes of input", nameof(output));
        }
        var done = 0;
        while (done < input.Length)
        {
            if (_keyStreamStart == _keyStreamEnd)
            {
                Refill(input.Length - done);
            }
            var take = Math.Min(_keyStreamEnd - _keyStreamStart, input.Length - done);
            XorBytes.Xor(input.Slice(done, take), _keyStream.AsSpan(_keyStreamStart, take), output.Slice(done, take));
            _keyStreamStart += take;
            done += take;
        }
    }

    public void Dispose() => _aes.Dispose();

    private void Refill(int wanted)
    {
        var blocks = Math.Min(BatchBlocks, (wanted + BlockSize - 1) / BlockSize);
        var counters = _counters.AsSpan(0, blocks * BlockSize);
        for (var i = 0; i < blocks; i++)
        {
            var block = counters.Slice(i * BlockSize, BlockSize);
            BinaryPrimitives.WriteUInt64BigEndian(block, _counterHigh);
            BinaryPrimitives.WriteUInt64BigEndian(block[8..], _counterLow);
            _counterLow++;
            if (_counterLow == 0)
            {
                _counterHigh++;
            }
        }
        _aes.EncryptEcb(counters, _keyStream, PaddingMode.None);
        _keyStreamStart = 0;
        _keyStreamEnd = counters.Length;
    }
}
