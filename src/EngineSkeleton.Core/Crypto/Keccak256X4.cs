using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EngineSkeleton.Core.Crypto;

/// <summary>
/// keccak256 of four inputs at once: each 64-bit lane of the state is a <see cref="Vector256{T}"/> holding that
/// lane for all four messages, so one AVX2 instruction does the work of four scalar ones (a multi-buffer sponge, as
/// XKCP's "times4" permutations do). A header download hashes every header it receives, 512 at a time, all with
/// the same number of rate blocks, so the permutations of four headers share their instructions. AVX2 has no
/// 64-bit rotate, so each rotation costs two shifts and an OR where the scalar code has one ROL; the gain is still
/// about twice the throughput (docs/benchmarks.md, Keccak-256).
/// </summary>
[SkipLocalsInit]
internal static class Keccak256X4
{
    public const int Ways = 4;

    /// <summary>Whether the 256-bit path runs in hardware; if not, callers hash one input at a time.</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated;

    /// <summary>
    /// Writes keccak256 of each input into <paramref name="outputs"/>[32·i..]. All four inputs must need the same
    /// number of permutations (<see cref="Blocks"/> equal).
    /// </summary>
    public static void Hash(ReadOnlySpan<byte> d0, ReadOnlySpan<byte> d1, ReadOnlySpan<byte> d2, ReadOnlySpan<byte> d3, Span<byte> outputs)
    {
        var blocks = Blocks(d0.Length);
        if (Blocks(d1.Length) != blocks || Blocks(d2.Length) != blocks || Blocks(d3.Length) != blocks)
        {
            throw new ArgumentException("the four inputs must span the same number of keccak blocks");
        }
        if (outputs.Length < Ways * Keccak256.HashSize)
        {
            throw new ArgumentException($"four hashes need {Ways * Keccak256.HashSize} bytes; the output span has {outputs.Length}", nameof(outputs));
        }
        var state = default(State);
        ref var lanes = ref state.Lanes;
        Span<byte> last = stackalloc byte[Ways * Keccak256.Rate];
        for (var block = 0; block < blocks - 1; block++)
        {
            var offset = block * Keccak256.Rate;
            Absorb(ref lanes, d0.Slice(offset, Keccak256.Rate), d1.Slice(offset, Keccak256.Rate), d2.Slice(offset, Keccak256.Rate), d3.Slice(offset, Keccak256.Rate));
            Permute(ref lanes);
        }
        var tail = (blocks - 1) * Keccak256.Rate;
        Absorb(ref lanes, Pad(d0[tail..], last[..Keccak256.Rate]), Pad(d1[tail..], last.Slice(Keccak256.Rate, Keccak256.Rate)), Pad(d2[tail..], last.Slice(2 * Keccak256.Rate, Keccak256.Rate)), Pad(d3[tail..], last[(3 * Keccak256.Rate)..]));
        Permute(ref lanes);
        for (var lane = 0; lane < Keccak256.HashSize / sizeof(ulong); lane++)
        {
            var v = Unsafe.Add(ref lanes, lane);
            for (var way = 0; way < Ways; way++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(outputs[((way * Keccak256.HashSize) + (lane * sizeof(ulong)))..], v.GetElement(way));
            }
        }
    }

    /// <summary>Permutations keccak256 runs for an input of <paramref name="length"/> bytes (the padding always adds one block's worth).</summary>
    public static int Blocks(int length) => (length / Keccak256.Rate) + 1;

    /// <summary>The last, padded block of an input whose earlier full blocks were absorbed.</summary>
    private static ReadOnlySpan<byte> Pad(ReadOnlySpan<byte> rest, Span<byte> block)
    {
        rest.CopyTo(block);
        block[rest.Length..].Clear();
        block[rest.Length] = Keccak256.KeccakPadding;
        block[Keccak256.Rate - 1] |= 0x80;
        return block;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Absorb(ref Vector256<ulong> lanes, ReadOnlySpan<byte> b0, ReadOnlySpan<byte> b1, ReadOnlySpan<byte> b2, ReadOnlySpan<byte> b3)
    {
        ref var s0 = ref MemoryMarshal.GetReference(b0);
        ref var s1 = ref MemoryMarshal.GetReference(b1);
        ref var s2 = ref MemoryMarshal.GetReference(b2);
        ref var s3 = ref MemoryMarshal.GetReference(b3);
        for (var i = 0; i < Keccak256.Rate / sizeof(ulong); i++)
        {
            var at = i * sizeof(ulong);
            Unsafe.Add(ref lanes, i) ^= Vector256.Create(
                ReadLane(ref Unsafe.Add(ref s0, at)),
                ReadLane(ref Unsafe.Add(ref s1, at)),
                ReadLane(ref Unsafe.Add(ref s2, at)),
                ReadLane(ref Unsafe.Add(ref s3, at)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadLane(ref byte source)
    {
        var lane = Unsafe.ReadUnaligned<ulong>(ref source);
        return BitConverter.IsLittleEndian ? lane : BinaryPrimitives.ReverseEndianness(lane);
    }

    /// <summary>A 64-bit rotate of each element: AVX2 has none (AVX-512's VPROLQ is not assumed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Rol(Vector256<ulong> x, [ConstantExpected(Min = 1, Max = 63)] int n) =>
        Vector256.ShiftLeft(x, n) | Vector256.ShiftRightLogical(x, 64 - n);

    /// <summary>keccak-f[1600] on four states: <see cref="Keccak256"/>'s permutation with each ulong a vector of four.</summary>
    /// <remarks>
    /// Compiled fully optimized at once: unoptimized tiers call <see cref="Rol"/> instead of inlining it, and a profile
    /// of the skeleton benchmark found a third of the four-way hashing time in those tiers.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Permute(ref Vector256<ulong> lanes)
    {
        var aba = Unsafe.Add(ref lanes, 0);
        var abe = Unsafe.Add(ref lanes, 1);
        var abi = Unsafe.Add(ref lanes, 2);
        var abo = Unsafe.Add(ref lanes, 3);
        var abu = Unsafe.Add(ref lanes, 4);
        var aga = Unsafe.Add(ref lanes, 5);
        var age = Unsafe.Add(ref lanes, 6);
        var agi = Unsafe.Add(ref lanes, 7);
        var ago = Unsafe.Add(ref lanes, 8);
        var agu = Unsafe.Add(ref lanes, 9);
        var aka = Unsafe.Add(ref lanes, 10);
        var ake = Unsafe.Add(ref lanes, 11);
        var aki = Unsafe.Add(ref lanes, 12);
        var ako = Unsafe.Add(ref lanes, 13);
        var aku = Unsafe.Add(ref lanes, 14);
        var ama = Unsafe.Add(ref lanes, 15);
        var ame = Unsafe.Add(ref lanes, 16);
        var ami = Unsafe.Add(ref lanes, 17);
        var amo = Unsafe.Add(ref lanes, 18);
        var amu = Unsafe.Add(ref lanes, 19);
        var asa = Unsafe.Add(ref lanes, 20);
        var ase = Unsafe.Add(ref lanes, 21);
        var asi = Unsafe.Add(ref lanes, 22);
        var aso = Unsafe.Add(ref lanes, 23);
        var asu = Unsafe.Add(ref lanes, 24);
        Vector256<ulong> eba, ebe, ebi, ebo, ebu, ega, ege, egi, ego, egu, eka, eke, eki, eko, eku, ema, eme, emi, emo, emu, esa, ese, esi, eso, esu;
        Vector256<ulong> b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
        var rc = Keccak256.RoundConstants;

        for (var round = 0; round < 24; round += 2)
        {
            // Round 2i: state in a-locals, result in e-locals.
            c0 = aba ^ aga ^ aka ^ ama ^ asa;
            c1 = abe ^ age ^ ake ^ ame ^ ase;
            c2 = abi ^ agi ^ aki ^ ami ^ asi;
            c3 = abo ^ ago ^ ako ^ amo ^ aso;
            c4 = abu ^ agu ^ aku ^ amu ^ asu;
            d0 = c4 ^ Rol(c1, 1);
            d1 = c0 ^ Rol(c2, 1);
            d2 = c1 ^ Rol(c3, 1);
            d3 = c2 ^ Rol(c4, 1);
            d4 = c3 ^ Rol(c0, 1);
            b0 = aba ^ d0;
            b1 = Rol(age ^ d1, 44);
            b2 = Rol(aki ^ d2, 43);
            b3 = Rol(amo ^ d3, 21);
            b4 = Rol(asu ^ d4, 14);
            eba = b0 ^ Vector256.AndNot(b2, b1) ^ Vector256.Create(rc[round]);
            ebe = b1 ^ Vector256.AndNot(b3, b2);
            ebi = b2 ^ Vector256.AndNot(b4, b3);
            ebo = b3 ^ Vector256.AndNot(b0, b4);
            ebu = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(abo ^ d3, 28);
            b1 = Rol(agu ^ d4, 20);
            b2 = Rol(aka ^ d0, 3);
            b3 = Rol(ame ^ d1, 45);
            b4 = Rol(asi ^ d2, 61);
            ega = b0 ^ Vector256.AndNot(b2, b1);
            ege = b1 ^ Vector256.AndNot(b3, b2);
            egi = b2 ^ Vector256.AndNot(b4, b3);
            ego = b3 ^ Vector256.AndNot(b0, b4);
            egu = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(abe ^ d1, 1);
            b1 = Rol(agi ^ d2, 6);
            b2 = Rol(ako ^ d3, 25);
            b3 = Rol(amu ^ d4, 8);
            b4 = Rol(asa ^ d0, 18);
            eka = b0 ^ Vector256.AndNot(b2, b1);
            eke = b1 ^ Vector256.AndNot(b3, b2);
            eki = b2 ^ Vector256.AndNot(b4, b3);
            eko = b3 ^ Vector256.AndNot(b0, b4);
            eku = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(abu ^ d4, 27);
            b1 = Rol(aga ^ d0, 36);
            b2 = Rol(ake ^ d1, 10);
            b3 = Rol(ami ^ d2, 15);
            b4 = Rol(aso ^ d3, 56);
            ema = b0 ^ Vector256.AndNot(b2, b1);
            eme = b1 ^ Vector256.AndNot(b3, b2);
            emi = b2 ^ Vector256.AndNot(b4, b3);
            emo = b3 ^ Vector256.AndNot(b0, b4);
            emu = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(abi ^ d2, 62);
            b1 = Rol(ago ^ d3, 55);
            b2 = Rol(aku ^ d4, 39);
            b3 = Rol(ama ^ d0, 41);
            b4 = Rol(ase ^ d1, 2);
            esa = b0 ^ Vector256.AndNot(b2, b1);
            ese = b1 ^ Vector256.AndNot(b3, b2);
            esi = b2 ^ Vector256.AndNot(b4, b3);
            eso = b3 ^ Vector256.AndNot(b0, b4);
            esu = b4 ^ Vector256.AndNot(b1, b0);

            // Round 2i+1: back from e- to a-locals.
            c0 = eba ^ ega ^ eka ^ ema ^ esa;
            c1 = ebe ^ ege ^ eke ^ eme ^ ese;
            c2 = ebi ^ egi ^ eki ^ emi ^ esi;
            c3 = ebo ^ ego ^ eko ^ emo ^ eso;
            c4 = ebu ^ egu ^ eku ^ emu ^ esu;
            d0 = c4 ^ Rol(c1, 1);
            d1 = c0 ^ Rol(c2, 1);
            d2 = c1 ^ Rol(c3, 1);
            d3 = c2 ^ Rol(c4, 1);
            d4 = c3 ^ Rol(c0, 1);
            b0 = eba ^ d0;
            b1 = Rol(ege ^ d1, 44);
            b2 = Rol(eki ^ d2, 43);
            b3 = Rol(emo ^ d3, 21);
            b4 = Rol(esu ^ d4, 14);
            aba = b0 ^ Vector256.AndNot(b2, b1) ^ Vector256.Create(rc[round + 1]);
            abe = b1 ^ Vector256.AndNot(b3, b2);
            abi = b2 ^ Vector256.AndNot(b4, b3);
            abo = b3 ^ Vector256.AndNot(b0, b4);
            abu = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(ebo ^ d3, 28);
            b1 = Rol(egu ^ d4, 20);
            b2 = Rol(eka ^ d0, 3);
            b3 = Rol(eme ^ d1, 45);
            b4 = Rol(esi ^ d2, 61);
            aga = b0 ^ Vector256.AndNot(b2, b1);
            age = b1 ^ Vector256.AndNot(b3, b2);
            agi = b2 ^ Vector256.AndNot(b4, b3);
            ago = b3 ^ Vector256.AndNot(b0, b4);
            agu = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(ebe ^ d1, 1);
            b1 = Rol(egi ^ d2, 6);
            b2 = Rol(eko ^ d3, 25);
            b3 = Rol(emu ^ d4, 8);
            b4 = Rol(esa ^ d0, 18);
            aka = b0 ^ Vector256.AndNot(b2, b1);
            ake = b1 ^ Vector256.AndNot(b3, b2);
            aki = b2 ^ Vector256.AndNot(b4, b3);
            ako = b3 ^ Vector256.AndNot(b0, b4);
            aku = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(ebu ^ d4, 27);
            b1 = Rol(ega ^ d0, 36);
            b2 = Rol(eke ^ d1, 10);
            b3 = Rol(emi ^ d2, 15);
            b4 = Rol(eso ^ d3, 56);
            ama = b0 ^ Vector256.AndNot(b2, b1);
            ame = b1 ^ Vector256.AndNot(b3, b2);
            ami = b2 ^ Vector256.AndNot(b4, b3);
            amo = b3 ^ Vector256.AndNot(b0, b4);
            amu = b4 ^ Vector256.AndNot(b1, b0);
            b0 = Rol(ebi ^ d2, 62);
            b1 = Rol(ego ^ d3, 55);
            b2 = Rol(eku ^ d4, 39);
            b3 = Rol(ema ^ d0, 41);
            b4 = Rol(ese ^ d1, 2);
            asa = b0 ^ Vector256.AndNot(b2, b1);
            ase = b1 ^ Vector256.AndNot(b3, b2);
            asi = b2 ^ Vector256.AndNot(b4, b3);
            aso = b3 ^ Vector256.AndNot(b0, b4);
            asu = b4 ^ Vector256.AndNot(b1, b0);
        }

        Unsafe.Add(ref lanes, 0) = aba;
        Unsafe.Add(ref lanes, 1) = abe;
        Unsafe.Add(ref lanes, 2) = abi;
        Unsafe.Add(ref lanes, 3) = abo;
        Unsafe.Add(ref lanes, 4) = abu;
        Unsafe.Add(ref lanes, 5) = aga;
        Unsafe.Add(ref lanes, 6) = age;
        Unsafe.Add(ref lanes, 7) = agi;
        Unsafe.Add(ref lanes, 8) = ago;
        Unsafe.Add(ref lanes, 9) = agu;
        Unsafe.Add(ref lanes, 10) = aka;
        Unsafe.Add(ref lanes, 11) = ake;
        Unsafe.Add(ref lanes, 12) = aki;
        Unsafe.Add(ref lanes, 13) = ako;
        Unsafe.Add(ref lanes, 14) = aku;
        Unsafe.Add(ref lanes, 15) = ama;
        Unsafe.Add(ref lanes, 16) = ame;
        Unsafe.Add(ref lanes, 17) = ami;
        Unsafe.Add(ref lanes, 18) = amo;
        Unsafe.Add(ref lanes, 19) = amu;
        Unsafe.Add(ref lanes, 20) = asa;
        Unsafe.Add(ref lanes, 21) = ase;
        Unsafe.Add(ref lanes, 22) = asi;
        Unsafe.Add(ref lanes, 23) = aso;
        Unsafe.Add(ref lanes, 24) = asu;
    }

    /// <summary>The 25 lanes of four Keccak states.</summary>
    [InlineArray(25)]
    private struct State
    {
        private Vector256<ulong> _lane;

        [UnscopedRef]
        public ref Vector256<ulong> Lanes => ref _lane;
    }
}
