using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Rlp;

/// <summary>
/// Reads RLP from a span, strictly: input from peers is untrusted, and only the canonical encoding of a value
/// is accepted, so that decoding and re-encoding give the same bytes and hence the same hash. Refused (with
/// <see cref="RlpException"/>): truncated items, a single byte below 0x80 wrapped as a string, the long form for
/// lengths below 56, lengths with leading zero bytes, integers with leading zero bytes, and (through
/// <see cref="EnsureEnd"/>) trailing bytes. Returned spans point into the input; copy what must outlive it.
/// </summary>
public ref struct RlpReader
{
    /// <summary>Largest unsigned integer <see cref="ReadBigInteger"/> accepts: 256 bits, the EVM word.</summary>
    public const int MaxBigIntegerBytes = 32;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    public RlpReader(ReadOnlySpan<byte> data)
        : this(data, 0)
    {
    }

    private RlpReader(ReadOnlySpan<byte> data, int baseOffset)
    {
        _data = data;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>True while unread items remain.</summary>
    public readonly bool HasMore => _position < _data.Length;

    /// <summary>Offset of the next item from the start of the outermost input (for messages and diagnostics).</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>True if the next item is a list; throws if there is no next item.</summary>
    public readonly bool PeekIsList
    {
        get
        {
            if (_position >= _data.Length)
            {
                ThrowAt(Offset, "expected an item, found the end of the input");
            }
            return _data[_position] >= 0xc0;
        }
    }

    /// <summary>Reads a list and returns a reader over its payload (the list's items).</summary>
    public RlpReader ReadList()
    {
        var start = ReadPrefix(out var isList, out var length);
        if (!isList)
        {
            ThrowAt(_baseOffset + start, "expected a list, found a string");
        }
        return new RlpReader(_data.Slice(start, length), _baseOffset + start);
    }

    /// <summary>Reads a string item and returns its payload.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var start = ReadPrefix(out var isList, out var length);
        if (isList)
        {
            ThrowAt(_baseOffset + start, "expected a string, found a list");
        }
        return _data.Slice(start, length);
    }

    /// <summary>Reads a string item whose payload must be exactly <paramref name="length"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int length)
    {
        var offset = Offset;
        var bytes = ReadBytes();
        if (bytes.Length != length)
        {
            ThrowAt(offset, $"expected a string of {length} bytes, found {bytes.Length}");
        }
        return bytes;
    }

    public ulong ReadUInt64()
    {
        var offset = Offset;
        var bytes = ReadCanonicalInteger(offset, sizeof(ulong));
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }
        return value;
    }

    /// <summary>Reads an unsigned integer of at most 256 bits (<see cref="MaxBigIntegerBytes"/>).</summary>
    public BigInteger ReadBigInteger()
    {
        var bytes = ReadCanonicalInteger(Offset, MaxBigIntegerBytes);
        return bytes.IsEmpty ? BigInteger.Zero : new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    public Hash256 ReadHash256() => new(ReadBytes(Hash256.Size));

    public Address ReadAddress() => new(ReadBytes(Address.Size));

    /// <summary>Reads the next item, string or list, and returns its whole encoding (prefix included).</summary>
    public ReadOnlySpan<byte> ReadRawItem()
    {
        var itemStart = _position;
        var start = ReadPrefix(out _, out var length);
        return _data[itemStart..(start + length)];
    }

    public void SkipItem() => ReadPrefix(out _, out _);

    /// <summary>Counts the unread items without consuming them (checking each one's prefix on the way).</summary>
    public readonly int CountItems()
    {
        var probe = this;
        var count = 0;
        while (probe.HasMore)
        {
            probe.SkipItem();
            count++;
        }
        return count;
    }

    /// <summary>Throws unless every item has been read: for inputs and lists that must be consumed exactly.</summary>
    public readonly void EnsureEnd()
    {
        if (HasMore)
        {
            ThrowAt(Offset, $"{_data.Length - _position} unexpected trailing bytes");
        }
    }

    private ReadOnlySpan<byte> ReadCanonicalInteger(int offset, int maxBytes)
    {
        var bytes = ReadBytes();
        if (bytes.Length > maxBytes)
        {
            ThrowAt(offset, $"integer of {bytes.Length} bytes exceeds the {maxBytes}-byte limit");
        }
        if (bytes.Length > 0 && bytes[0] == 0)
        {
            ThrowAt(offset, "integer has a leading zero byte (non-canonical)");
        }
        return bytes;
    }

    /// <summary>
    /// Reads one item's prefix, checks that the item is canonical and inside the input, moves past the whole
    /// item and returns the payload's start (relative to this reader's span).
    /// </summary>
    private int ReadPrefix(out bool isList, out int length)
    {
        var itemOffset = Offset;
        if (_position >= _data.Length)
        {
            ThrowAt(itemOffset, "expected an item, found the end of the input");
        }
        int prefix = _data[_position];
        int start;
        if (prefix < 0x80)
        {
            isList = false;
            start = _position;
            length = 1;
        }
        else if (prefix <= 0xb7)
        {
            isList = false;
            start = _position + 1;
            length = prefix - 0x80;
            if (length == 1 && start < _data.Length && _data[start] < 0x80)
            {
                ThrowAt(itemOffset, "single byte below 0x80 must be encoded as itself, not as a string");
            }
        }
        else if (prefix <= 0xbf)
        {
            isList = false;
            length = ReadLongLength(prefix - 0xb7, itemOffset);
            start = _position + 1 + prefix - 0xb7;
        }
        else if (prefix <= 0xf7)
        {
            isList = true;
            start = _position + 1;
            length = prefix - 0xc0;
        }
        else
        {
            isList = true;
            length = ReadLongLength(prefix - 0xf7, itemOffset);
            start = _position + 1 + prefix - 0xf7;
        }
        if (length > _data.Length - start)
        {
            ThrowAt(itemOffset, $"item of {length} bytes overruns the input ({_data.Length - start} left)");
        }
        _position = start + length;
        return start;
    }

    private readonly int ReadLongLength(int lengthOfLength, int itemOffset)
    {
        var lengthBytes = _data[(_position + 1)..];
        if (lengthBytes.Length < lengthOfLength)
        {
            ThrowAt(itemOffset, "length of the item is cut off");
        }
        if (lengthBytes[0] == 0)
        {
            ThrowAt(itemOffset, "length has a leading zero byte (non-canonical)");
        }
        ulong length = 0;
        for (var i = 0; i < lengthOfLength; i++)
        {
            length = (length << 8) | lengthBytes[i];
        }
        if (length < 56)
        {
            ThrowAt(itemOffset, $"long form used for a length of {length} (below 56: non-canonical)");
        }
        if (length > int.MaxValue)
        {
            ThrowAt(itemOffset, $"item length {length} is beyond any input this reader takes");
        }
        return (int)length;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAt(int offset, string message) =>
        throw new RlpException($"RLP: {message} (at byte {offset})");
}
