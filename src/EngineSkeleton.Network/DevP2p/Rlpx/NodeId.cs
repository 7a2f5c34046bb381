using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using EngineSkeleton.Core.Primitives;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// A node's identity on devp2p: its secp256k1 public key, uncompressed, without the 0x04 prefix (64 bytes, x then y).
/// Held by value, so it can key a peer table. Any 64 bytes make a <see cref="NodeId"/>; whether they are a point on
/// the curve is checked where a key is needed (<see cref="IsValidPublicKey"/>, <see cref="Enode.Parse"/>, the
/// handshake), as geth checks it when it unmarshals a public key.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct NodeId : IEquatable<NodeId>
{
    public const int Size = 64;

    private readonly Hash256 _x;
    private readonly Hash256 _y;

    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a node id is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }
        _x = new Hash256(bytes[..Hash256.Size]);
        _y = new Hash256(bytes[Hash256.Size..]);
    }

    /// <summary>The 64 bytes, as a read-only view of this value (valid while the value lives).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in _x, 2));

    /// <summary>All zeros: what <c>default</c> holds, and what rlpx.md calls a null identity.</summary>
    public bool IsZero => _x.IsZero && _y.IsZero;

    /// <summary>True if the bytes are a point on secp256k1 (not every 64 bytes are).</summary>
    public bool IsValidPublicKey => TryGetPublicKey(out _);

    public byte[] ToArray() => Bytes.ToArray();

    /// <summary>Parses 128 hex digits, with or without 0x, as enode URLs and geth's logs write them.</summary>
    public static NodeId Parse(string hex) =>
        TryParse(hex, out var id) ? id : throw new FormatException($"not a node id of {Size * 2} hex digits: '{Shorten(hex)}'");

    public static bool TryParse(string? hex, out NodeId id)
    {
        id = default;
        if (hex is null)
        {
            return false;
        }
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex.AsSpan(2) : hex.AsSpan();
        if (digits.Length != Size * 2)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(digits, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }
        id = new NodeId(bytes);
        return true;
    }

    internal static NodeId FromPublicKey(ECPubKey key)
    {
        Span<byte> uncompressed = stackalloc byte[1 + Size];
        key.WriteToSpan(compressed: false, uncompressed, out _);
        return new NodeId(uncompressed[1..]);
    }

    internal bool TryGetPublicKey([NotNullWhen(true)] out ECPubKey? key)
    {
        Span<byte> uncompressed = stackalloc byte[1 + Size];
        uncompressed[0] = 0x04;
        Bytes.CopyTo(uncompressed[1..]);
        return ECPubKey.TryCreate(uncompressed, Context.Instance, out _, out key);
    }

    public bool Equals(NodeId other) => _x == other._x && _y == other._y;

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode() => _x.GetHashCode();

    /// <summary>128 lower-case hex digits without 0x, as in an enode URL.</summary>
    public override string ToString() => Convert.ToHexStringLower(Bytes);

    /// <summary>Short form for logs: the first eight bytes.</summary>
    public string ToShortString() => Convert.ToHexStringLower(Bytes[..8]);

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    private static string Shorten(string? s) => s is null ? "null" : s.Length <= 140 ? s : s[..140] + "...";
}
