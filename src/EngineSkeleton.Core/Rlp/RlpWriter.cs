using System.Buffers.Binary;
using System.Numerics;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Rlp;

/// <summary>
/// Writes canonical RLP into a span sized in advance: callers add up the <c>LengthOf*</c> of their items first
/// (a list header needs its payload length before the payload), then allocate or rent exactly that much and
/// write in one pass, with no intermediate buffers. Writing past the span is a sizing bug and throws.
/// </summary>
public ref struct RlpWriter
{
    /// <summary>Encoded size of a 32-byte string: prefix 0xa0 and the bytes.</summary>
    public const int LengthOfHash256 = 1 + Hash256.Size;

    /// <summary>Encoded size of a 20-byte string: prefix 0x94 and the bytes.</summary>
    public const int LengthOfAddress = 1 + Address.Size;

    private readonly Span<byte> _buffer;
    private int _position;

    public RlpWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _position;

    public static int LengthOfBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 1 && bytes[0] < 0x80 ? 1 : LengthOfPrefix(bytes.Length) + bytes.Length;

    public static int LengthOfUInt64(ulong value) => value < 0x80 ? 1 : 1 + ByteCount(value);

    public static int LengthOfBigInteger(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "RLP integers are unsigned");
        }
        if (value < 0x80)
        {
            return 1;
        }
        var count = value.GetByteCount(isUnsigned: true);
        return LengthOfPrefix(count) + count;
    }

    /// <summary>Encoded size of a list whose items take <paramref name="payloadLength"/> bytes.</summary>
    public static int LengthOfList(int payloadLength) => LengthOfPrefix(payloadLength) + payloadLength;

    public void WriteBytes(scoped ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1 && bytes[0] < 0x80)
        {
            _buffer[_position++] = bytes[0];
            return;
        }
        WritePrefix(0x80, bytes.Length);
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    public void WriteUInt64(ulong value)
    {
        if (value < 0x80)
        {
            _buffer[_position++] = value == 0 ? (byte)0x80 : (byte)value;
            return;
        }
        var count = ByteCount(value);
        _buffer[_position++] = (byte)(0x80 + count);
        Span<byte> bigEndian = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(bigEndian, value);
        bigEndian[(sizeof(ulong) - count)..].CopyTo(_buffer[_position..]);
        _position += count;
    }

    public void WriteBigInteger(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "RLP integers are unsigned");
        }
        if (value < 0x80)
        {
            _buffer[_position++] = value.IsZero ? (byte)0x80 : (byte)value;
            return;
        }
        var count = value.GetByteCount(isUnsigned: true);
        WritePrefix(0x80, count);
        value.TryWriteBytes(_buffer.Slice(_position, count), out _, isUnsigned: true, isBigEndian: true);
        _position += count;
    }

    public void WriteHash256(in Hash256 hash)
    {
        _buffer[_position++] = 0x80 + Hash256.Size;
        hash.Bytes.CopyTo(_buffer[_position..]);
        _position += Hash256.Size;
    }

    public void WriteAddress(Address address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _buffer[_position++] = 0x80 + Address.Size;
        address.Bytes.CopyTo(_buffer[_position..]);
        _position += Address.Size;
    }

    /// <summary>Writes the header of a list whose items, written next, take <paramref name="payloadLength"/> bytes.</summary>
    public void WriteListHeader(int payloadLength) => WritePrefix(0xc0, payloadLength);

    /// <summary>Copies an already encoded item (or several) as they are.</summary>
    public void WriteRaw(scoped ReadOnlySpan<byte> encoded)
    {
        encoded.CopyTo(_buffer[_position..]);
        _position += encoded.Length;
    }

    /// <summary>Encodes one byte string as a new array (trie keys, small values).</summary>
    public static byte[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        var output = new byte[LengthOfBytes(bytes)];
        var writer = new RlpWriter(output);
        writer.WriteBytes(bytes);
        return output;
    }

    /// <summary>Encodes one unsigned integer as a new array (trie keys of list roots).</summary>
    public static byte[] EncodeUInt64(ulong value)
    {
        var output = new byte[LengthOfUInt64(value)];
        var writer = new RlpWriter(output);
        writer.WriteUInt64(value);
        return output;
    }

    private void WritePrefix(byte shortBase, int length)
    {
        if (length < 56)
        {
            _buffer[_position++] = (byte)(shortBase + length);
            return;
        }
        var count = ByteCount((ulong)length);
        _buffer[_position++] = (byte)(shortBase + 55 + count);
        for (var i = count - 1; i >= 0; i--)
        {
            _buffer[_position++] = (byte)(length >> (8 * i));
        }
    }

    private static int LengthOfPrefix(int payloadLength) =>
        payloadLength < 56 ? 1 : 1 + ByteCount((ulong)payloadLength);

    private static int ByteCount(ulong value) => (64 - BitOperations.LeadingZeroCount(value) + 7) / 8;
}
