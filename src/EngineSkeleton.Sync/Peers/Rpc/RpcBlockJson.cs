using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using EngineSkeleton.Blocks;
using EngineSkeleton.Primitives;

namespace EngineSkeleton.Sync.Peers.Rpc;

/// <summary>
/// Rebuilds a header from the block object of <c>eth_getBlockByNumber</c>/<c>eth_getBlockByHash</c> (execution-apis
/// block schema). The optional fork fields decide the shape, as in RLP: baseFeePerGas (London), withdrawalsRoot
/// (Shanghai), blobGasUsed + excessBlobGas + parentBeaconBlockRoot (Cancun), requestsHash (Prague); a member
/// that is absent or JSON null is not there. The caller re-hashes the result and compares it with the block's
/// <c>hash</c>: JSON carries no proof, only the hash does.
/// </summary>
internal static class RpcBlockJson
{
    /// <summary>Reads the header fields and the claimed hash; false with the first bad field named.</summary>
    public static bool TryReadHeader(
        JsonElement block,
        [NotNullWhen(true)] out BlockHeader? header,
        out Hash256 claimedHash,
        [NotNullWhen(false)] out string? error)
    {
        header = null;
        claimedHash = default;
        if (block.ValueKind != JsonValueKind.Object)
        {
            error = $"a block is a JSON object, got {block.ValueKind}";
            return false;
        }
        var r = new Reader(block);
        claimedHash = r.Hash("hash");
        var logsBloom = r.Data("logsBloom");
        if (r.Error is null && logsBloom.Length != BlockHeader.LogsBloomSize)
        {
            r.Fail("logsBloom", $"{logsBloom.Length} bytes, not {BlockHeader.LogsBloomSize}");
        }
        var candidate = new BlockHeader
        {
            ParentHash = r.Hash("parentHash"),
            OmmersHash = r.Hash("sha3Uncles"),
            Beneficiary = r.Address("miner"),
            StateRoot = r.Hash("stateRoot"),
            TransactionsRoot = r.Hash("transactionsRoot"),
            ReceiptsRoot = r.Hash("receiptsRoot"),
            LogsBloom = r.Error is null ? logsBloom : new byte[BlockHeader.LogsBloomSize],
            Difficulty = r.BigQuantity("difficulty"),
            Number = r.Quantity("number"),
            GasLimit = r.Quantity("gasLimit"),
            GasUsed = r.Quantity("gasUsed"),
            Timestamp = r.Quantity("timestamp"),
            ExtraData = r.Data("extraData"),
            // prevRandao (EIP-4399) is the same field under its post-merge name; some nodes send only that.
            MixHash = r.Has("mixHash") || !r.Has("prevRandao") ? r.Hash("mixHash") : r.Hash("prevRandao"),
            Nonce = r.Nonce("nonce"),
            BaseFeePerGas = r.Has("baseFeePerGas") ? r.BigQuantity("baseFeePerGas") : null,
            WithdrawalsRoot = r.Has("withdrawalsRoot") ? r.Hash("withdrawalsRoot") : null,
            BlobGasUsed = r.Has("blobGasUsed") ? r.Quantity("blobGasUsed") : null,
            ExcessBlobGas = r.Has("excessBlobGas") ? r.Quantity("excessBlobGas") : null,
            ParentBeaconBlockRoot = r.Has("parentBeaconBlockRoot") ? r.Hash("parentBeaconBlockRoot") : null,
            RequestsHash = r.Has("requestsHash") ? r.Hash("requestsHash") : null,
        };
        if (r.Error is not null)
        {
            error = r.Error;
            return false;
        }
        try
        {
            _ = candidate.Hash;
        }
        catch (InvalidOperationException)
        {
            // Encode refuses optional fields that match no fork's shape (say blobGasUsed without withdrawalsRoot).
            error = "its fork fields match no header shape (a later fork's field without an earlier one's)";
            return false;
        }
        header = candidate;
        error = null;
        return true;
    }

    /// <summary>Reads the block's <c>number</c> and <c>hash</c> only.</summary>
    public static bool TryReadNumberAndHash(JsonElement block, out ulong number, out Hash256 hash, [NotNullWhen(false)] out string? error)
    {
        number = 0;
        hash = default;
        if (block.ValueKind != JsonValueKind.Object)
        {
            error = $"a block is a JSON object, got {block.ValueKind}";
            return false;
        }
        var r = new Reader(block);
        number = r.Quantity("number");
        hash = r.Hash("hash");
        error = r.Error;
        return error is null;
    }

    /// <summary>A hex quantity as the JSON-RPC spec writes it: 0x, then 1..64 hex digits (leading zeros tolerated).</summary>
    internal static bool TryParseQuantity(string? text, out BigInteger value)
    {
        value = default;
        if (text is null || text.Length < 3 || text.Length > 66 || text[0] != '0' || text[1] is not ('x' or 'X'))
        {
            return false;
        }
        var digits = text.AsSpan(2);
        foreach (var c in digits)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        // A leading 0 keeps BigInteger's hex parser from reading the top bit as a sign.
        return BigInteger.TryParse(string.Concat("0", digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Field reads that record the first failure and return a placeholder after it, so one pass reads all.</summary>
    private sealed class Reader(JsonElement block)
    {
        public string? Error { get; private set; }

        public bool Has(string name) =>
            block.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

        public void Fail(string name, string why) => Error ??= $"field {name}: {why}";

        public Hash256 Hash(string name) =>
            Hash256.TryParse(Text(name), out var hash) ? hash : Failed<Hash256>(name, "not a 32-byte hex hash");

        public Address Address(string name) =>
            Hex.TryDecodeFixed(Text(name), Primitives.Address.Size, out var bytes)
                ? new Address(bytes)
                : Failed(name, "not a 20-byte hex address", Primitives.Address.Zero);

        public byte[] Data(string name) =>
            Hex.TryDecode(Text(name), out var bytes) ? bytes : Failed(name, "not 0x-prefixed hex bytes", Array.Empty<byte>());

        public ulong Quantity(string name)
        {
            var text = Text(name);
            return TryParseQuantity(text, out var value) && value <= ulong.MaxValue
                ? (ulong)value
                : Failed<ulong>(name, "not a 64-bit hex quantity");
        }

        public BigInteger BigQuantity(string name) =>
            TryParseQuantity(Text(name), out var value) ? value : Failed<BigInteger>(name, "not a hex quantity");

        /// <summary>The ethash nonce: 8 bytes of data, or a quantity as some nodes write it; either way a 64-bit number.</summary>
        public ulong Nonce(string name)
        {
            var text = Text(name);
            if (Hex.TryDecode(text, out var bytes) && bytes.Length == sizeof(ulong))
            {
                return BinaryPrimitives.ReadUInt64BigEndian(bytes);
            }
            return TryParseQuantity(text, out var value) && value <= ulong.MaxValue
                ? (ulong)value
                : Failed<ulong>(name, "not an 8-byte nonce");
        }

        private string? Text(string name)
        {
            if (!block.TryGetProperty(name, out var value))
            {
                Fail(name, "missing");
                return null;
            }
            if (value.ValueKind != JsonValueKind.String)
            {
                Fail(name, $"a JSON {value.ValueKind}, not a string");
                return null;
            }
            return value.GetString();
        }

        private T Failed<T>(string name, string why, T placeholder = default!)
        {
            Fail(name, why);
            return placeholder;
        }
    }
}
