using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>Byte-wise XOR of spans, a vector at a time.</summary>
internal static class XorBytes
{
    /// <summary><paramref name="output"/>[i] = <paramref name="left"/>[i] ^ <paramref name="right"/>[i] for the length of <paramref name="left"/>.</summary>
    public static void Xor(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> output)
    {
        var length = left.Length;
        if (right.Length < length || output.Length < length)
        {
            throw new ArgumentException("XOR of spans of different lengths");
        }
        ref var l = ref MemoryMarshal.GetReference(left);
        ref var r = ref MemoryMarshal.GetReference(right);
        ref var o = ref MemoryMarshal.GetReference(output);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                var x = Vector.LoadUnsafe(ref l, (nuint)i) ^ Vector.LoadUnsafe(ref r, (nuint)i);
                x.StoreUnsafe(ref o, (nuint)i);
            }
        }
        for (; i < length; i++)
        {
            Unsafe.Add(ref o, i) = (byte)(Unsafe.Add(ref l, i) ^ Unsafe.Add(ref r, i));
        }
    }
}
