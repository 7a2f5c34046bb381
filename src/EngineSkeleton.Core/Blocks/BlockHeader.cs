using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Blocks;

/// <summary>
/// An execution-layer block header. Which optional fields are present is the fork's shape, fixed by the RLP
/// field count: 15 (Frontier..Berlin), 16 (+ baseFeePerGas, London), 17 (+ withdrawalsRoot, Shanghai),
/// 20 (+ blobGasUsed, excessBlobGas, parentBeaconBlockRoot, Cancun), 21 (+ requestsHash, Prague). No other
/// shape is encoded or accepted. Equality compares every field by value (byte arrays by content); the arrays
/// are shared, not copied, so treat them as immutable.
/// </summary>
public sealed record BlockHeader
{
    public const int LogsBloomSize = 256;

    private const int NonceSize = 8;

    /// <summary>Field counts of the header shapes that exist, oldest first.</summary>
    private const int LondonFields = 16, ShanghaiFields = 17, CancunFields = 20, PragueFields = 21, FrontierFields = 15;

    private HashCache? _hash;

    public Hash256 ParentHash { get; init; }

    /// <summary>keccak256 of the RLP list of ommer headers; <see cref="Keccak256.OfEmptyList"/> after the merge.</summary>
    public Hash256 OmmersHash { get; init; } = Keccak256.OfEmptyList;

    public Address Beneficiary { get; init => field = value ?? throw new ArgumentNullException(nameof(value)); } = Address.Zero;

    public Hash256 StateRoot { get; init; }

    public Hash256 TransactionsRoot { get; init; } = Keccak256.EmptyTrieRoot;

    public Hash256 ReceiptsRoot { get; init; } = Keccak256.EmptyTrieRoot;

    /// <summary>256 bytes.</summary>
    public required byte[] LogsBloom
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != LogsBloomSize)
            {
                throw new ArgumentException($"a logs bloom is {LogsBloomSize} bytes, got {value.Length}", nameof(value));
            }
            field = value;
        }
    }

    public BigInteger Difficulty { get; init; }

    public ulong Number { get; init; }

    public ulong GasLimit { get; init; }

    public ulong GasUsed { get; init; }

    public ulong Timestamp { get; init; }

    public byte[] ExtraData { get; init => field = value ?? throw new ArgumentNullException(nameof(value)); } = [];

    /// <summary>The ethash mix digest before the merge; prevRandao (EIP-4399) after it.</summary>
    public Hash256 MixHash { get; init; }

    /// <summary>The ethash nonce, written as 8 big-endian bytes; 0 after the merge.</summary>
    public ulong Nonce { get; init; }

    /// <summary>EIP-1559, London and later.</summary>
    public BigInteger? BaseFeePerGas { get; init; }

    /// <summary>EIP-4895, Shanghai and later.</summary>
    public Hash256? WithdrawalsRoot { get; init; }

    /// <summary>EIP-4844, Cancun and later (with <see cref="ExcessBlobGas"/> and <see cref="ParentBeaconBlockRoot"/>).</summary>
    public ulong? BlobGasUsed { get; init; }

    public ulong? ExcessBlobGas { get; init; }

    /// <summary>EIP-4788, Cancun and later.</summary>
    public Hash256? ParentBeaconBlockRoot { get; init; }

    /// <summary>EIP-7685, Prague and later.</summary>
    public Hash256? RequestsHash { get; init; }

    /// <summary>
    /// keccak256 of the header's RLP: the block hash. Computed once; a decoded header was hashed from the bytes
    /// it was decoded from (canonical decoding makes those the bytes <see cref="Encode"/> gives back).
    /// </summary>
    public Hash256 Hash
    {
        get
        {
            // The cache names its owner: a copy made by `with` inherits the field but not the owner, so it
            // hashes itself afresh instead of reporting the original's hash. A race computes the same value
            // twice and publishes one immutable object, so no lock is needed.
            var cache = Volatile.Read(ref _hash);
            if (cache?.Owned(this) is not { } hash)
            {
                var encoded = cache?.EncodedFor(this) ?? Encode();
                hash = Keccak256.Hash(encoded);
                Volatile.Write(ref _hash, new HashCache(this, encoded, hash));
            }
            return hash;
        }
    }

    /// <summary>
    /// The header's RLP as <see cref="Encode"/> gives it, without encoding again when the bytes are at hand: a
    /// decoded header keeps the bytes it was decoded (and hashed) from, a built one the bytes its <see cref="Hash"/>
    /// was computed from. The skeleton stores every downloaded header; re-encoding each on the store's single writer
    /// cost 0.4–0.6 µs a header there (docs/benchmarks.md, Header RLP). The array may be shared with the header:
    /// never modify it.
    /// </summary>
    public byte[] EncodedBytes()
    {
        return Volatile.Read(ref _hash)?.EncodedFor(this) ?? Encode();
    }

    /// <summary>
    /// Computes the <see cref="Hash"/> of every header of <paramref name="headers"/> not hashed yet, four at a time
    /// where the CPU allows (<see cref="Keccak256.HashAll(IReadOnlyList{byte[]}, Span{Hash256})"/>): what a header download does with each answer of 512.
    /// Afterwards each header's Hash is a read.
    /// </summary>
    public static void HashAll(IReadOnlyList<BlockHeader> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var pending = new List<BlockHeader>(headers.Count);
        var encodings = new List<byte[]>(headers.Count);
        foreach (var header in headers)
        {
            var cache = Volatile.Read(ref header._hash);
            if (cache?.Owned(header) is null)
            {
                pending.Add(header);
                encodings.Add(cache?.EncodedFor(header) ?? header.Encode());
            }
        }
        var hashes = new Hash256[pending.Count];
        Keccak256.HashAll(encodings, hashes);
        for (var i = 0; i < pending.Count; i++)
        {
            Volatile.Write(ref pending[i]._hash, new HashCache(pending[i], encodings[i], hashes[i]));
        }
    }

    public byte[] Encode()
    {
        var payload = PayloadLength();
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        Write(ref writer, payload);
        return output;
    }

    /// <summary>Decodes one header that must span the whole input; throws <see cref="RlpException"/>.</summary>
    public static BlockHeader Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new RlpReader(encoded);
        var header = Read(ref reader);
        reader.EnsureEnd();
        return header;
    }

    /// <summary>Decodes one header that must span the whole input, for data from peers: no exception escapes.</summary>
    public static bool TryDecode(
        ReadOnlySpan<byte> encoded,
        [NotNullWhen(true)] out BlockHeader? header,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            header = Decode(encoded);
            error = null;
            return true;
        }
        catch (RlpException e)
        {
            header = null;
            error = e.Message;
            return false;
        }
    }

    public bool Equals(BlockHeader? other) =>
        ReferenceEquals(this, other) || (other is not null
            && ParentHash == other.ParentHash
            && OmmersHash == other.OmmersHash
            && Beneficiary.Equals(other.Beneficiary)
            && StateRoot == other.StateRoot
            && TransactionsRoot == other.TransactionsRoot
            && ReceiptsRoot == other.ReceiptsRoot
            && LogsBloom.AsSpan().SequenceEqual(other.LogsBloom)
            && Difficulty == other.Difficulty
            && Number == other.Number
            && GasLimit == other.GasLimit
            && GasUsed == other.GasUsed
            && Timestamp == other.Timestamp
            && ExtraData.AsSpan().SequenceEqual(other.ExtraData)
            && MixHash == other.MixHash
            && Nonce == other.Nonce
            && BaseFeePerGas == other.BaseFeePerGas
            && WithdrawalsRoot == other.WithdrawalsRoot
            && BlobGasUsed == other.BlobGasUsed
            && ExcessBlobGas == other.ExcessBlobGas
            && ParentBeaconBlockRoot == other.ParentBeaconBlockRoot
            && RequestsHash == other.RequestsHash);

    public override int GetHashCode() => HashCode.Combine(ParentHash, Number, StateRoot, TransactionsRoot, Timestamp);

    public override string ToString() => $"header #{Number} {Hash}";

    /// <summary>Reads one header item and hashes its bytes as received.</summary>
    internal static BlockHeader Read(ref RlpReader reader)
    {
        var raw = reader.ReadRawItem();
        var item = new RlpReader(raw);
        var fields = item.ReadList();
        var count = fields.CountItems();
        if (count is not (FrontierFields or LondonFields or ShanghaiFields or CancunFields or PragueFields))
        {
            throw new RlpException(
                $"RLP: a header has 15, 16, 17, 20 or 21 fields (by fork); this one has {count} (at byte {fields.Offset})");
        }
        var header = new BlockHeader
        {
            ParentHash = fields.ReadHash256(),
            OmmersHash = fields.ReadHash256(),
            Beneficiary = fields.ReadAddress(),
            StateRoot = fields.ReadHash256(),
            TransactionsRoot = fields.ReadHash256(),
            ReceiptsRoot = fields.ReadHash256(),
            LogsBloom = fields.ReadBytes(LogsBloomSize).ToArray(),
            Difficulty = fields.ReadBigInteger(),
            Number = fields.ReadUInt64(),
            GasLimit = fields.ReadUInt64(),
            GasUsed = fields.ReadUInt64(),
            Timestamp = fields.ReadUInt64(),
            ExtraData = fields.ReadBytes().ToArray(),
            MixHash = fields.ReadHash256(),
            Nonce = BinaryPrimitives.ReadUInt64BigEndian(fields.ReadBytes(NonceSize)),
            BaseFeePerGas = count >= LondonFields ? fields.ReadBigInteger() : null,
            WithdrawalsRoot = count >= ShanghaiFields ? fields.ReadHash256() : null,
            BlobGasUsed = count >= CancunFields ? fields.ReadUInt64() : null,
            ExcessBlobGas = count >= CancunFields ? fields.ReadUInt64() : null,
            ParentBeaconBlockRoot = count >= CancunFields ? fields.ReadHash256() : null,
            RequestsHash = count >= PragueFields ? fields.ReadHash256() : null,
        };
        fields.EnsureEnd();
        // Hashed when first asked (Hash), or with its batch (HashAll): a download hashes its answers four at a time.
        header._hash = new HashCache(header, raw.ToArray(), null);
        return header;
    }

    internal int EncodedLength => RlpWriter.LengthOfList(PayloadLength());

    internal void Write(ref RlpWriter writer) => Write(ref writer, PayloadLength());

    private void Write(ref RlpWriter writer, int payloadLength)
    {
        var count = FieldCount();
        writer.WriteListHeader(payloadLength);
        writer.WriteHash256(ParentHash);
        writer.WriteHash256(OmmersHash);
        writer.WriteAddress(Beneficiary);
        writer.WriteHash256(StateRoot);
        writer.WriteHash256(TransactionsRoot);
        writer.WriteHash256(ReceiptsRoot);
        writer.WriteBytes(LogsBloom);
        writer.WriteBigInteger(Difficulty);
        writer.WriteUInt64(Number);
        writer.WriteUInt64(GasLimit);
        writer.WriteUInt64(GasUsed);
        writer.WriteUInt64(Timestamp);
        writer.WriteBytes(ExtraData);
        writer.WriteHash256(MixHash);
        Span<byte> nonce = stackalloc byte[NonceSize];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, Nonce);
        writer.WriteBytes(nonce);
        if (count >= LondonFields)
        {
            writer.WriteBigInteger(BaseFeePerGas!.Value);
        }
        if (count >= ShanghaiFields)
        {
            writer.WriteHash256(WithdrawalsRoot!.Value);
        }
        if (count >= CancunFields)
        {
            writer.WriteUInt64(BlobGasUsed!.Value);
            writer.WriteUInt64(ExcessBlobGas!.Value);
            writer.WriteHash256(ParentBeaconBlockRoot!.Value);
        }
        if (count >= PragueFields)
        {
            writer.WriteHash256(RequestsHash!.Value);
        }
    }

    private int PayloadLength()
    {
        var count = FieldCount();
        // Six hashes: parent, ommers, state, transactions, receipts, mix. The nonce is a string of 8 bytes.
        var length = (6 * RlpWriter.LengthOfHash256) + RlpWriter.LengthOfAddress
            + RlpWriter.LengthOfBytes(LogsBloom)
            + RlpWriter.LengthOfBigInteger(Difficulty)
            + RlpWriter.LengthOfUInt64(Number) + RlpWriter.LengthOfUInt64(GasLimit)
            + RlpWriter.LengthOfUInt64(GasUsed) + RlpWriter.LengthOfUInt64(Timestamp)
            + RlpWriter.LengthOfBytes(ExtraData)
            + 1 + NonceSize;
        if (count >= LondonFields)
        {
            length += RlpWriter.LengthOfBigInteger(BaseFeePerGas!.Value);
        }
        if (count >= ShanghaiFields)
        {
            length += RlpWriter.LengthOfHash256;
        }
        if (count >= CancunFields)
        {
            length += RlpWriter.LengthOfUInt64(BlobGasUsed!.Value) + RlpWriter.LengthOfUInt64(ExcessBlobGas!.Value)
                + RlpWriter.LengthOfHash256;
        }
        if (count >= PragueFields)
        {
            length += RlpWriter.LengthOfHash256;
        }
        return length;
    }

    /// <summary>The RLP field count the set optional fields make; throws if they match no fork's shape.</summary>
    private int FieldCount()
    {
        var cancunSet = (BlobGasUsed.HasValue ? 1 : 0) + (ExcessBlobGas.HasValue ? 1 : 0)
            + (ParentBeaconBlockRoot.HasValue ? 1 : 0);
        var count = RequestsHash.HasValue ? PragueFields
            : cancunSet > 0 ? CancunFields
            : WithdrawalsRoot.HasValue ? ShanghaiFields
            : BaseFeePerGas.HasValue ? LondonFields
            : FrontierFields;
        var complete = (count < LondonFields || BaseFeePerGas.HasValue)
            && (count < ShanghaiFields || WithdrawalsRoot.HasValue)
            && (count < CancunFields || cancunSet == 3);
        if (!complete)
        {
            throw new InvalidOperationException(
                "header optional fields must match a fork's shape: a later field requires every earlier one " +
                "(baseFeePerGas, withdrawalsRoot, blobGasUsed + excessBlobGas + parentBeaconBlockRoot, requestsHash)");
        }
        return count;
    }

    /// <summary>
    /// The bytes a header was decoded from or hashed as, and their hash once computed, for the header that owns them:
    /// a `with` copy inherits the field but not the ownership, so it encodes and hashes itself afresh. Immutable; a
    /// race computes the same hash twice and publishes either object.
    /// </summary>
    private sealed class HashCache(BlockHeader owner, byte[] encoded, Hash256? hash)
    {
        private readonly BlockHeader _owner = owner;
        private readonly byte[] _encoded = encoded;
        private readonly Hash256? _hash = hash;

        public Hash256? Owned(BlockHeader header) => ReferenceEquals(_owner, header) ? _hash : null;

        public byte[]? EncodedFor(BlockHeader header) => ReferenceEquals(_owner, header) ? _encoded : null;
    }
}
