using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Crypto;

/// <summary>
/// Keccak-256 as Ethereum uses it: the Keccak sponge with rate 1088 bits, capacity 512 and the original
/// padding (first pad byte 0x01). FIPS 202 later changed that byte to 0x06 for SHA3-256, so the two share the
/// permutation and differ only in the padding; this is why SHA3-256 is the yardstick in docs/benchmarks.md.
/// Allocation-free; safe for concurrent use (no shared mutable state).
/// </summary>
[SkipLocalsInit]
public static class Keccak256
{
    public const int HashSize = 32;

    /// <summary>Bytes absorbed per permutation: (1600 - 2 * 256) / 8.</summary>
    internal const int Rate = 136;

    private const int RateLanes = Rate / 8;

    /// <summary>First padding byte of the original Keccak submission, as Ethereum uses it.</summary>
    internal const byte KeccakPadding = 0x01;

    /// <summary>First padding byte of FIPS 202 SHA3-256; only tests use it, to check the permutation against .NET.</summary>
    internal const byte Sha3Padding = 0x06;

    /// <summary>keccak256 of no bytes: the code hash of an account without code.</summary>
    public static readonly Hash256 OfEmpty =
        Hash256.FromHex("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

    /// <summary>keccak256(0xc0), the hash of an empty RLP list: the ommers hash of every post-merge block.</summary>
    public static readonly Hash256 OfEmptyList =
        Hash256.FromHex("0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

    /// <summary>keccak256(0x80), the hash of an empty RLP string: the root of a trie with no entries.</summary>
    public static readonly Hash256 EmptyTrieRoot =
        Hash256.FromHex("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

    public static Hash256 Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> output = stackalloc byte[HashSize];
        HashCore(data, output, KeccakPadding);
        return new Hash256(output);
    }

    /// <summary>Writes keccak256(<paramref name="data"/>) into the first 32 bytes of <paramref name="output32"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> output32)
    {
        if (output32.Length < HashSize)
        {
            ThrowOutputTooShort(output32.Length);
        }
        HashCore(data, output32, KeccakPadding);
    }

    /// <summary>
    /// keccak256 of each input into <paramref name="outputs"/>, four at a time with AVX2 where four consecutive-ish
    /// inputs need the same number of permutations (a batch of headers, of transactions of one shape), one at a time
    /// otherwise. The same hashes as <see cref="Hash(ReadOnlySpan{byte})"/>, at about twice the throughput for
    /// same-sized inputs (docs/benchmarks.md, Keccak-256).
    /// </summary>
    public static void HashAll(IReadOnlyList<byte[]> inputs, Span<Hash256> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        HashAll(new ArrayInputs(inputs), outputs);
    }

    /// <summary>
    /// As <see cref="HashAll(IReadOnlyList{byte[]}, Span{Hash256})"/>, for inputs that lie one after another in
    /// <paramref name="data"/>, input i ending at <paramref name="ends"/>[i]: encodings written into one buffer need
    /// no array each.
    /// </summary>
    public static void HashAll(ReadOnlySpan<byte> data, ReadOnlySpan<int> ends, Span<Hash256> outputs)
    {
        if (ends.Length > 0 && ends[^1] > data.Length)
        {
            throw new ArgumentException($"inputs end at {ends[^1]}, past the {data.Length} bytes given", nameof(ends));
        }
        HashAll(new SliceInputs(data, ends), outputs);
    }

    private static void HashAll<TInputs>(TInputs inputs, Span<Hash256> outputs)
        where TInputs : IInputs, allows ref struct
    {
        if (outputs.Length < inputs.Count)
        {
            throw new ArgumentException($"{inputs.Count} inputs, room for {outputs.Length} hashes", nameof(outputs));
        }
        if (!Keccak256X4.IsSupported || inputs.Count < Keccak256X4.Ways)
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                outputs[i] = Hash(inputs[i]);
            }
            return;
        }
        // Inputs wait in a group of their block count until four are there; inputs of a batch rarely differ by more
        // than a block, so a handful of groups suffices, and whatever is left at the end is hashed one at a time.
        Span<int> waiting = stackalloc int[GroupCount * Keccak256X4.Ways];
        Span<int> counts = stackalloc int[GroupCount];
        Span<int> blockCounts = stackalloc int[GroupCount];
        counts.Clear();
        blockCounts.Clear();
        Span<byte> four = stackalloc byte[Keccak256X4.Ways * HashSize];
        for (var i = 0; i < inputs.Count; i++)
        {
            var blocks = Keccak256X4.Blocks(inputs[i].Length);
            var group = blockCounts.IndexOf(blocks);
            if (group < 0)
            {
                group = blockCounts.IndexOf(0);
            }
            if (group < 0)
            {
                outputs[i] = Hash(inputs[i]); // a sixth shape in one batch: not worth a group
                continue;
            }
            blockCounts[group] = blocks;
            var members = waiting.Slice(group * Keccak256X4.Ways, Keccak256X4.Ways);
            members[counts[group]++] = i;
            if (counts[group] == Keccak256X4.Ways)
            {
                Keccak256X4.Hash(inputs[members[0]], inputs[members[1]], inputs[members[2]], inputs[members[3]], four);
                for (var way = 0; way < Keccak256X4.Ways; way++)
                {
                    outputs[members[way]] = new Hash256(four.Slice(way * HashSize, HashSize));
                }
                counts[group] = 0;
            }
        }
        for (var group = 0; group < GroupCount; group++)
        {
            for (var member = 0; member < counts[group]; member++)
            {
                var i = waiting[(group * Keccak256X4.Ways) + member];
                outputs[i] = Hash(inputs[i]);
            }
        }
    }

    /// <summary>The inputs of a <see cref="HashAll(IReadOnlyList{byte[]}, Span{Hash256})"/>, however they are held.</summary>
    private interface IInputs
    {
        int Count { get; }

        ReadOnlySpan<byte> this[int index] { get; }
    }

    private readonly struct ArrayInputs(IReadOnlyList<byte[]> inputs) : IInputs
    {
        public int Count => inputs.Count;

        public ReadOnlySpan<byte> this[int index] => inputs[index];
    }

    private readonly ref struct SliceInputs(ReadOnlySpan<byte> data, ReadOnlySpan<int> ends) : IInputs
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private readonly ReadOnlySpan<int> _ends = ends;

        public int Count => _ends.Length;

        public ReadOnlySpan<byte> this[int index] => _data[(index == 0 ? 0 : _ends[index - 1]).._ends[index]];
    }

    /// <summary>Block counts <see cref="HashAll(IReadOnlyList{byte[]}, Span{Hash256})"/> groups by at once.</summary>
    private const int GroupCount = 5;

    internal static void HashCore(ReadOnlySpan<byte> data, Span<byte> output, byte padding)
    {
        var state = default(State);
        ref var lanes = ref state.Lanes;
        while (data.Length >= Rate)
        {
            Absorb(ref lanes, data);
            Permute(ref lanes);
            data = data[Rate..];
        }
        Span<byte> last = stackalloc byte[Rate];
        data.CopyTo(last);
        last[data.Length..].Clear();
        last[data.Length] = padding;
        last[Rate - 1] |= 0x80;
        Absorb(ref lanes, last);
        Permute(ref lanes);
        Squeeze(ref lanes, output);
    }

    /// <summary>
    /// Incremental keccak256 for input that arrives in pieces. A mutable struct: keep it in a local or field and
    /// do not copy it mid-use (a copy hashes independently). <c>default</c> is a fresh hasher; Finish resets it.
    /// </summary>
    public struct Hasher
    {
        private State _state;
        private Block _pending;
        private int _pendingLength;

        public void Append(ReadOnlySpan<byte> data)
        {
            ref var lanes = ref _state.Lanes;
            Span<byte> pending = _pending;
            if (_pendingLength > 0)
            {
                var take = Math.Min(Rate - _pendingLength, data.Length);
                data[..take].CopyTo(pending[_pendingLength..]);
                _pendingLength += take;
                data = data[take..];
                if (_pendingLength < Rate)
                {
                    return;
                }
                Absorb(ref lanes, pending);
                Permute(ref lanes);
                _pendingLength = 0;
            }
            while (data.Length >= Rate)
            {
                Absorb(ref lanes, data);
                Permute(ref lanes);
                data = data[Rate..];
            }
            data.CopyTo(pending);
            _pendingLength = data.Length;
        }

        public Hash256 Finish()
        {
            Span<byte> output = stackalloc byte[HashSize];
            Finish(output);
            return new Hash256(output);
        }

        public void Finish(Span<byte> output32)
        {
            if (output32.Length < HashSize)
            {
                ThrowOutputTooShort(output32.Length);
            }
            ref var lanes = ref _state.Lanes;
            Span<byte> pending = _pending;
            pending[_pendingLength..].Clear();
            pending[_pendingLength] = KeccakPadding;
            pending[Rate - 1] |= 0x80;
            Absorb(ref lanes, pending);
            Permute(ref lanes);
            Squeeze(ref lanes, output32);
            this = default;
        }
    }

    /// <summary>XORs one rate-sized block (17 little-endian lanes) into the state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Absorb(ref ulong lanes, ReadOnlySpan<byte> block)
    {
        ref var source = ref MemoryMarshal.GetReference(block);
        for (var i = 0; i < RateLanes; i++)
        {
            Unsafe.Add(ref lanes, i) ^= ReadLane(ref Unsafe.Add(ref source, i * sizeof(ulong)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadLane(ref byte source)
    {
        var lane = Unsafe.ReadUnaligned<ulong>(ref source);
        return BitConverter.IsLittleEndian ? lane : BinaryPrimitives.ReverseEndianness(lane);
    }

    private static void Squeeze(ref ulong lanes, Span<byte> output)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output, lanes);
        BinaryPrimitives.WriteUInt64LittleEndian(output[8..], Unsafe.Add(ref lanes, 1));
        BinaryPrimitives.WriteUInt64LittleEndian(output[16..], Unsafe.Add(ref lanes, 2));
        BinaryPrimitives.WriteUInt64LittleEndian(output[24..], Unsafe.Add(ref lanes, 3));
    }

    /// <summary>Iota constants of the 24 rounds (FIPS 202 §3.2.5; derived there from an LFSR).</summary>
    internal static ReadOnlySpan<ulong> RoundConstants =>
    [
        0x0000000000000001UL, 0x0000000000008082UL, 0x800000000000808AUL, 0x8000000080008000UL,
        0x000000000000808BUL, 0x0000000080000001UL, 0x8000000080008081UL, 0x8000000000008009UL,
        0x000000000000008AUL, 0x0000000000000088UL, 0x0000000080008009UL, 0x000000008000000AUL,
        0x000000008000808BUL, 0x800000000000008BUL, 0x8000000000008089UL, 0x8000000000008003UL,
        0x8000000000008002UL, 0x8000000000000080UL, 0x000000000000800AUL, 0x800000008000000AUL,
        0x8000000080008081UL, 0x8000000000008080UL, 0x0000000080000001UL, 0x8000000080008008UL,
    ];

    /// <summary>
    /// keccak-f[1600]. The 25 lanes live in locals named as in the Keccak reference (rows b g k m s, columns
    /// a e i o u) so the JIT can keep what fits in registers. Each round is written out in full: theta's column
    /// parities (c) and their mix (d), then per output row the five rho/pi-moved lanes (b) combined by chi, with
    /// iota on the first lane. Two rounds per iteration let the state alternate between the a- and e-locals
    /// without copies.
    /// </summary>
    /// <remarks>
    /// Compiled fully optimized at its first call, as the four-way permutation is: a sync's first seconds otherwise
    /// ran it in the unoptimized and the instrumented tiers, where a profile of the JSON-RPC skeleton phase found it
    /// at 10 % of the node's CPU (docs/benchmarks.md, Sync from a JSON-RPC peer).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Permute(ref ulong lanes)
    {
        ulong aba = lanes;
        ulong abe = Unsafe.Add(ref lanes, 1);
        ulong abi = Unsafe.Add(ref lanes, 2);
        ulong abo = Unsafe.Add(ref lanes, 3);
        ulong abu = Unsafe.Add(ref lanes, 4);
        ulong aga = Unsafe.Add(ref lanes, 5);
        ulong age = Unsafe.Add(ref lanes, 6);
        ulong agi = Unsafe.Add(ref lanes, 7);
        ulong ago = Unsafe.Add(ref lanes, 8);
        ulong agu = Unsafe.Add(ref lanes, 9);
        ulong aka = Unsafe.Add(ref lanes, 10);
        ulong ake = Unsafe.Add(ref lanes, 11);
        ulong aki = Unsafe.Add(ref lanes, 12);
        ulong ako = Unsafe.Add(ref lanes, 13);
        ulong aku = Unsafe.Add(ref lanes, 14);
        ulong ama = Unsafe.Add(ref lanes, 15);
        ulong ame = Unsafe.Add(ref lanes, 16);
        ulong ami = Unsafe.Add(ref lanes, 17);
        ulong amo = Unsafe.Add(ref lanes, 18);
        ulong amu = Unsafe.Add(ref lanes, 19);
        ulong asa = Unsafe.Add(ref lanes, 20);
        ulong ase = Unsafe.Add(ref lanes, 21);
        ulong asi = Unsafe.Add(ref lanes, 22);
        ulong aso = Unsafe.Add(ref lanes, 23);
        ulong asu = Unsafe.Add(ref lanes, 24);
        ulong eba, ebe, ebi, ebo, ebu, ega, ege, egi, ego, egu, eka, eke, eki, eko, eku, ema, eme, emi, emo, emu, esa, ese, esi, eso, esu;
        ulong b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
        var rc = RoundConstants;

        for (var round = 0; round < 24; round += 2)
        {
            // Round 2i: state in a-locals, result in e-locals.
            c0 = aba ^ aga ^ aka ^ ama ^ asa;
            c1 = abe ^ age ^ ake ^ ame ^ ase;
            c2 = abi ^ agi ^ aki ^ ami ^ asi;
            c3 = abo ^ ago ^ ako ^ amo ^ aso;
            c4 = abu ^ agu ^ aku ^ amu ^ asu;
            d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            b0 = aba ^ d0;
            b1 = BitOperations.RotateLeft(age ^ d1, 44);
            b2 = BitOperations.RotateLeft(aki ^ d2, 43);
            b3 = BitOperations.RotateLeft(amo ^ d3, 21);
            b4 = BitOperations.RotateLeft(asu ^ d4, 14);
            eba = b0 ^ (~b1 & b2) ^ rc[round];
            ebe = b1 ^ (~b2 & b3);
            ebi = b2 ^ (~b3 & b4);
            ebo = b3 ^ (~b4 & b0);
            ebu = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(abo ^ d3, 28);
            b1 = BitOperations.RotateLeft(agu ^ d4, 20);
            b2 = BitOperations.RotateLeft(aka ^ d0, 3);
            b3 = BitOperations.RotateLeft(ame ^ d1, 45);
            b4 = BitOperations.RotateLeft(asi ^ d2, 61);
            ega = b0 ^ (~b1 & b2);
            ege = b1 ^ (~b2 & b3);
            egi = b2 ^ (~b3 & b4);
            ego = b3 ^ (~b4 & b0);
            egu = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(abe ^ d1, 1);
            b1 = BitOperations.RotateLeft(agi ^ d2, 6);
            b2 = BitOperations.RotateLeft(ako ^ d3, 25);
            b3 = BitOperations.RotateLeft(amu ^ d4, 8);
            b4 = BitOperations.RotateLeft(asa ^ d0, 18);
            eka = b0 ^ (~b1 & b2);
            eke = b1 ^ (~b2 & b3);
            eki = b2 ^ (~b3 & b4);
            eko = b3 ^ (~b4 & b0);
            eku = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(abu ^ d4, 27);
            b1 = BitOperations.RotateLeft(aga ^ d0, 36);
            b2 = BitOperations.RotateLeft(ake ^ d1, 10);
            b3 = BitOperations.RotateLeft(ami ^ d2, 15);
            b4 = BitOperations.RotateLeft(aso ^ d3, 56);
            ema = b0 ^ (~b1 & b2);
            eme = b1 ^ (~b2 & b3);
            emi = b2 ^ (~b3 & b4);
            emo = b3 ^ (~b4 & b0);
            emu = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(abi ^ d2, 62);
            b1 = BitOperations.RotateLeft(ago ^ d3, 55);
            b2 = BitOperations.RotateLeft(aku ^ d4, 39);
            b3 = BitOperations.RotateLeft(ama ^ d0, 41);
            b4 = BitOperations.RotateLeft(ase ^ d1, 2);
            esa = b0 ^ (~b1 & b2);
            ese = b1 ^ (~b2 & b3);
            esi = b2 ^ (~b3 & b4);
            eso = b3 ^ (~b4 & b0);
            esu = b4 ^ (~b0 & b1);

            // Round 2i+1: back from e- to a-locals.
            c0 = eba ^ ega ^ eka ^ ema ^ esa;
            c1 = ebe ^ ege ^ eke ^ eme ^ ese;
            c2 = ebi ^ egi ^ eki ^ emi ^ esi;
            c3 = ebo ^ ego ^ eko ^ emo ^ eso;
            c4 = ebu ^ egu ^ eku ^ emu ^ esu;
            d0 = c4 ^ BitOperations.RotateLeft(c1, 1);
            d1 = c0 ^ BitOperations.RotateLeft(c2, 1);
            d2 = c1 ^ BitOperations.RotateLeft(c3, 1);
            d3 = c2 ^ BitOperations.RotateLeft(c4, 1);
            d4 = c3 ^ BitOperations.RotateLeft(c0, 1);
            b0 = eba ^ d0;
            b1 = BitOperations.RotateLeft(ege ^ d1, 44);
            b2 = BitOperations.RotateLeft(eki ^ d2, 43);
            b3 = BitOperations.RotateLeft(emo ^ d3, 21);
            b4 = BitOperations.RotateLeft(esu ^ d4, 14);
            aba = b0 ^ (~b1 & b2) ^ rc[round + 1];
            abe = b1 ^ (~b2 & b3);
            abi = b2 ^ (~b3 & b4);
            abo = b3 ^ (~b4 & b0);
            abu = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(ebo ^ d3, 28);
            b1 = BitOperations.RotateLeft(egu ^ d4, 20);
            b2 = BitOperations.RotateLeft(eka ^ d0, 3);
            b3 = BitOperations.RotateLeft(eme ^ d1, 45);
            b4 = BitOperations.RotateLeft(esi ^ d2, 61);
            aga = b0 ^ (~b1 & b2);
            age = b1 ^ (~b2 & b3);
            agi = b2 ^ (~b3 & b4);
            ago = b3 ^ (~b4 & b0);
            agu = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(ebe ^ d1, 1);
            b1 = BitOperations.RotateLeft(egi ^ d2, 6);
            b2 = BitOperations.RotateLeft(eko ^ d3, 25);
            b3 = BitOperations.RotateLeft(emu ^ d4, 8);
            b4 = BitOperations.RotateLeft(esa ^ d0, 18);
            aka = b0 ^ (~b1 & b2);
            ake = b1 ^ (~b2 & b3);
            aki = b2 ^ (~b3 & b4);
            ako = b3 ^ (~b4 & b0);
            aku = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(ebu ^ d4, 27);
            b1 = BitOperations.RotateLeft(ega ^ d0, 36);
            b2 = BitOperations.RotateLeft(eke ^ d1, 10);
            b3 = BitOperations.RotateLeft(emi ^ d2, 15);
            b4 = BitOperations.RotateLeft(eso ^ d3, 56);
            ama = b0 ^ (~b1 & b2);
            ame = b1 ^ (~b2 & b3);
            ami = b2 ^ (~b3 & b4);
            amo = b3 ^ (~b4 & b0);
            amu = b4 ^ (~b0 & b1);
            b0 = BitOperations.RotateLeft(ebi ^ d2, 62);
            b1 = BitOperations.RotateLeft(ego ^ d3, 55);
            b2 = BitOperations.RotateLeft(eku ^ d4, 39);
            b3 = BitOperations.RotateLeft(ema ^ d0, 41);
            b4 = BitOperations.RotateLeft(ese ^ d1, 2);
            asa = b0 ^ (~b1 & b2);
            ase = b1 ^ (~b2 & b3);
            asi = b2 ^ (~b3 & b4);
            aso = b3 ^ (~b4 & b0);
            asu = b4 ^ (~b0 & b1);
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

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutputTooShort(int length) =>
        throw new ArgumentException($"keccak256 writes {HashSize} bytes; the output span has {length}", "output32");

    /// <summary>The 25 lanes of the Keccak state.</summary>
    [InlineArray(25)]
    private struct State
    {
        private ulong _lane;

        [UnscopedRef]
        public ref ulong Lanes => ref _lane;
    }

    /// <summary>A rate-sized byte buffer for the incremental hasher's partial block.</summary>
    [InlineArray(Rate)]
    private struct Block
    {
        private byte _byte;
    }
}
