using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EngineSkeleton.Core.Primitives;

/// <summary>A 32-byte hash (block hash, state root, ...), held by value so it can key dictionaries without allocation.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Hash256 : IEquatable<Hash256>, IComparable<Hash256>
{
    public const int Size = 32;

    private readonly ulong _u0, _u1, _u2, _u3;

    public static readonly Hash256 Zero;

    public Hash256(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            ThrowWrongLength(bytes.Length);
        }
        _u0 = MemoryMarshal.Read<ulong>(bytes);
        _u1 = MemoryMarshal.Read<ulong>(bytes[8..]);
        _u2 = MemoryMarshal.Read<ulong>(bytes[16..]);
        _u3 = MemoryMarshal.Read<ulong>(bytes[24..]);
    }

    /// <summary>The 32 bytes, as a read-only view of this value (valid while the value lives).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in _u0, 4));

    public bool IsZero => (_u0 | _u1 | _u2 | _u3) == 0;

    public byte[] ToArray() => Bytes.ToArray();

    public void CopyTo(Span<byte> destination) => Bytes.CopyTo(destination);

    public static Hash256 FromHex(string hex) => new(Hex.Decode(hex));

    public static bool TryParse(string? hex, out Hash256 hash)
    {
        if (Hex.TryDecodeFixed(hex, Size, out var bytes))
        {
            hash = new Hash256(bytes);
            return true;
        }
        hash = default;
        return false;
    }

    public bool Equals(Hash256 other) =>
        _u0 == other._u0 && _u1 == other._u1 && _u2 == other._u2 && _u3 == other._u3;

    public override bool Equals(object? obj) => obj is Hash256 other && Equals(other);

    public override int GetHashCode() => unchecked((int)_u0 ^ (int)(_u0 >> 32) ^ (int)_u1);

    public int CompareTo(Hash256 other) => Bytes.SequenceCompareTo(other.Bytes);

    public override string ToString() => Hex.Encode(Bytes);

    /// <summary>Short form for logs, as geth prints it: first and last bytes.</summary>
    public string ToShortString()
    {
        var b = Bytes;
        return $"0x{Convert.ToHexStringLower(b[..3])}..{Convert.ToHexStringLower(b[^3..])}";
    }

    public static bool operator ==(Hash256 left, Hash256 right) => left.Equals(right);

    public static bool operator !=(Hash256 left, Hash256 right) => !left.Equals(right);

    public static bool operator <(Hash256 left, Hash256 right) => left.CompareTo(right) < 0;

    public static bool operator >(Hash256 left, Hash256 right) => left.CompareTo(right) > 0;

    public static bool operator <=(Hash256 left, Hash256 right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Hash256 left, Hash256 right) => left.CompareTo(right) >= 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private static void ThrowWrongLength(int length) =>
        throw new ArgumentException($"a hash is {Size} bytes, got {length}", nameof(length));

    /// <summary>Reads the first eight bytes big-endian; handy for logs and test fixtures.</summary>
    public ulong Prefix64 => BinaryPrimitives.ReadUInt64BigEndian(Bytes);
}
