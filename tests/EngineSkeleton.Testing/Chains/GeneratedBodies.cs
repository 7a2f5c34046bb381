using System.Buffers.Binary;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Testing.Chains;

/// <summary>
/// The body of one generated block, built from its branch key and number alone (so it can be built again on every
/// read instead of being kept): transactions of every type in canonical EIP-2718 form, withdrawals, and the gas and
/// blob gas the header must state. Nothing is signed or executable; the encodings are what
/// <see cref="Transactions.IsWellFormed"/> and the block validator check.
/// </summary>
public static class GeneratedBodies
{
    private const ulong ChainId = 1;

    /// <summary>Intrinsic gas of a transaction and of a non-zero calldata byte (Yellow paper, EIP-2028).</summary>
    private const ulong TxGas = 21_000, DataByteGas = 16;

    /// <summary>EIP-4844 (and EIP-7594 for Osaka): blobs in one transaction; six fits every fork.</summary>
    private const int MaxBlobsPerTransaction = 6;

    /// <summary>Blocks in a run of blob-heavy (or blob-light) blocks, so excessBlobGas climbs and falls back.</summary>
    private const ulong BlobBurst = 32;

    /// <summary>Calldata, addresses and keys are slices of this: copying is cheaper than generating 100 KB a block.</summary>
    private static readonly byte[] Pool = MakePool(1 << 16);

    /// <summary>A body and what it costs, for the header that commits to it.</summary>
    public readonly record struct Generated(BlockBody Body, ulong GasUsed, ulong BlobGasUsed);

    public static Generated Make(BodyProfile profile, ulong key, ulong number, ulong gasLimit)
    {
        var rng = new Rng(key ^ (number * 0xA24BAED4963EE407UL) ^ 0x5EED);
        if (rng.Below(16) == 0)
        {
            return new Generated(new BlockBody([], [], []), 0, 0); // about one block in sixteen is empty, as on mainnet
        }
        var scratch = new byte[(2 * profile.DataBytes) + 1024];
        var count = profile.Transactions / 2 + (int)rng.Below((ulong)profile.Transactions + 1);
        var transactions = new List<byte[]>(count + 4);
        var gasUsed = 0UL;
        for (var i = 0; i < count; i++)
        {
            var pick = rng.Below(100);
            var type = pick < 25 ? Transactions.Legacy
                : pick < 30 ? Transactions.AccessList
                : pick < 95 || !profile.SetCode ? Transactions.DynamicFee
                : Transactions.SetCode;
            var tx = Transaction(ref rng, type, 0, profile.DataBytes, scratch, out var gas);
            if (gasUsed + gas > gasLimit)
            {
                break;
            }
            gasUsed += gas;
            transactions.Add(tx);
        }

        var blobs = 0UL;
        if (profile.Blobs is { } parameters)
        {
            // Bursts above the target raise excessBlobGas; the quiet runs between them let it fall to zero again.
            var budget = (number / BlobBurst) % 2 == 1 ? parameters.Max : rng.Below(parameters.Target + 1);
            while (blobs < budget)
            {
                var inTx = 1 + (int)rng.Below(Math.Min(budget - blobs, (ulong)MaxBlobsPerTransaction));
                var tx = Transaction(ref rng, Transactions.Blob, inTx, profile.DataBytes, scratch, out var gas);
                if (gasUsed + gas > gasLimit)
                {
                    break;
                }
                gasUsed += gas;
                blobs += (ulong)inTx;
                transactions.Insert((int)rng.Below((ulong)transactions.Count + 1), tx);
            }
        }

        var withdrawals = new Withdrawal[profile.Withdrawals];
        for (var i = 0; i < withdrawals.Length; i++)
        {
            withdrawals[i] = new Withdrawal(
                ((number - 1) * (ulong)profile.Withdrawals) + (ulong)i,
                rng.Below(2_000_000),
                new Address(Slice(ref rng, Address.Size)),
                rng.Below(64_000_000_000));
        }
        return new Generated(new BlockBody(transactions, [], withdrawals), gasUsed, blobs * BlobParameters.GasPerBlob);
    }

    /// <summary>
    /// One transaction of <paramref name="type"/>: its fields (per EIP-155, 2930, 1559, 4844, 7702) are written into
    /// <paramref name="scratch"/>, then wrapped as the type byte and an RLP list.
    /// </summary>
    private static byte[] Transaction(ref Rng rng, byte type, int blobs, int meanData, Span<byte> scratch, out ulong gas)
    {
        var data = Slice(ref rng, (int)rng.Below((ulong)(2 * meanData) + 1));
        gas = TxGas + (DataByteGas * (ulong)data.Length);
        var w = new RlpWriter(scratch);
        if (type != Transactions.Legacy)
        {
            w.WriteUInt64(ChainId);
        }
        w.WriteUInt64(rng.Below(5_000)); // nonce
        if (type is Transactions.Legacy or Transactions.AccessList)
        {
            w.WriteUInt64(1_000_000_000 + rng.Below(50_000_000_000)); // gasPrice
        }
        else
        {
            w.WriteUInt64(rng.Below(3_000_000_000)); // maxPriorityFeePerGas
            w.WriteUInt64(1_000_000_000 + rng.Below(100_000_000_000)); // maxFeePerGas
        }
        w.WriteUInt64(gas + rng.Below(100_000)); // gas limit
        // A contract creation has no recipient; blob and set-code transactions cannot create.
        var creates = type is not (Transactions.Blob or Transactions.SetCode) && rng.Below(50) == 0;
        w.WriteBytes(creates ? ReadOnlySpan<byte>.Empty : Slice(ref rng, Address.Size));
        w.WriteUInt64(rng.Below(4) == 0 ? rng.Next() : 0); // value
        w.WriteBytes(data);
        if (type != Transactions.Legacy)
        {
            WriteAccessList(ref w, ref rng);
        }
        if (type == Transactions.Blob)
        {
            w.WriteUInt64(1 + rng.Below(1_000_000_000)); // maxFeePerBlobGas
            w.WriteListHeader(blobs * RlpWriter.LengthOfHash256);
            Span<byte> hash = stackalloc byte[Hash256.Size];
            for (var i = 0; i < blobs; i++)
            {
                rng.Fill(hash);
                hash[0] = 0x01; // VERSIONED_HASH_VERSION_KZG
                w.WriteBytes(hash);
            }
        }
        if (type == Transactions.SetCode)
        {
            WriteAuthorization(ref w, ref rng);
        }
        // Signature: EIP-155 v for legacy (chain 1: 37 or 38), y parity for the others; r and s any 32 bytes.
        w.WriteUInt64(type == Transactions.Legacy ? 37 + rng.Below(2) : rng.Below(2));
        WriteWord(ref w, ref rng);
        WriteWord(ref w, ref rng);

        var payload = w.Position;
        var prefix = type == Transactions.Legacy ? 0 : 1;
        var tx = new byte[prefix + RlpWriter.LengthOfList(payload)];
        tx[0] = type;
        var output = new RlpWriter(tx.AsSpan(prefix));
        output.WriteListHeader(payload);
        output.WriteRaw(scratch[..payload]);
        return tx;
    }

    /// <summary>An access list: empty, or one address with up to two storage keys.</summary>
    private static void WriteAccessList(ref RlpWriter w, ref Rng rng)
    {
        if (rng.Below(4) != 0)
        {
            w.WriteListHeader(0);
            return;
        }
        var keys = (int)rng.Below(3);
        var entry = RlpWriter.LengthOfAddress + RlpWriter.LengthOfList(keys * RlpWriter.LengthOfHash256);
        w.WriteListHeader(RlpWriter.LengthOfList(entry));
        w.WriteListHeader(entry);
        w.WriteBytes(Slice(ref rng, Address.Size));
        w.WriteListHeader(keys * RlpWriter.LengthOfHash256);
        for (var i = 0; i < keys; i++)
        {
            w.WriteBytes(Slice(ref rng, Hash256.Size));
        }
    }

    /// <summary>An EIP-7702 authorization list of one tuple [chain_id, address, nonce, y_parity, r, s].</summary>
    private static void WriteAuthorization(ref RlpWriter w, ref Rng rng)
    {
        var nonce = rng.Below(5_000);
        var parity = rng.Below(2);
        var tuple = RlpWriter.LengthOfUInt64(ChainId) + RlpWriter.LengthOfAddress + RlpWriter.LengthOfUInt64(nonce)
            + RlpWriter.LengthOfUInt64(parity) + (2 * RlpWriter.LengthOfHash256);
        w.WriteListHeader(RlpWriter.LengthOfList(tuple));
        w.WriteListHeader(tuple);
        w.WriteUInt64(ChainId);
        w.WriteBytes(Slice(ref rng, Address.Size));
        w.WriteUInt64(nonce);
        w.WriteUInt64(parity);
        WriteWord(ref w, ref rng);
        WriteWord(ref w, ref rng);
    }

    /// <summary>A 32-byte integer with a non-zero first byte, so its RLP is canonical as an integer too.</summary>
    private static void WriteWord(ref RlpWriter w, ref Rng rng)
    {
        Span<byte> word = stackalloc byte[Hash256.Size];
        rng.Fill(word);
        word[0] |= 0x01;
        w.WriteBytes(word);
    }

    private static ReadOnlySpan<byte> Slice(ref Rng rng, int length) =>
        Pool.AsSpan((int)rng.Below((ulong)(Pool.Length - length + 1)), length);

    private static byte[] MakePool(int size)
    {
        var pool = new byte[size];
        new Rng(0xB0D1E5).Fill(pool);
        return pool;
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014) as a stream.</summary>
    private struct Rng(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>A number in [0, bound); bound must be positive. (The modulo bias is irrelevant here.)</summary>
        public ulong Below(ulong bound) => Next() % bound;

        public void Fill(Span<byte> bytes)
        {
            var i = 0;
            for (; i + sizeof(ulong) <= bytes.Length; i += sizeof(ulong))
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[i..], Next());
            }
            if (i < bytes.Length)
            {
                Span<byte> last = stackalloc byte[sizeof(ulong)];
                BinaryPrimitives.WriteUInt64LittleEndian(last, Next());
                last[..(bytes.Length - i)].CopyTo(bytes[i..]);
            }
        }
    }
}
