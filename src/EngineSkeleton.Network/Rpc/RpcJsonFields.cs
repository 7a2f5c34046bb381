using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// Reads the members of one JSON-RPC object (a block, a transaction, a withdrawal) as Ethereum JSON writes them:
/// hex data, 0x quantities, hashes, addresses. The first failure is kept in <see cref="Error"/>, naming the member,
/// and later reads return placeholders, so a caller reads every field in one pass and checks once.
/// </summary>
internal sealed class RpcJsonFields(JsonElement item)
{
    public string? Error { get; private set; }

    /// <summary>The member is there and not JSON null.</summary>
    public bool Has(string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public void Fail(string name, string why) => Error ??= $"field {name}: {why}";

    public Hash256 Hash(string name) =>
        Hash256.TryParse(Text(name), out var hash) ? hash : Failed<Hash256>(name, "not a 32-byte hex hash");

    public Address Address(string name) =>
        Hex.TryDecodeFixed(Text(name), Core.Primitives.Address.Size, out var bytes)
            ? new Address(bytes)
            : Failed(name, "not a 20-byte hex address", Core.Primitives.Address.Zero);

    public byte[] Data(string name) =>
        Hex.TryDecode(Text(name), out var bytes) ? bytes : Failed<byte[]>(name, "not 0x-prefixed hex bytes", []);

    public ulong Quantity(string name) =>
        TryParseQuantity(Text(name), out var value) && value <= ulong.MaxValue
            ? (ulong)value
            : Failed<ulong>(name, "not a 64-bit hex quantity");

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

    /// <summary>The members of an array member, each an object or string as the caller expects; empty after a failure.</summary>
    public IReadOnlyList<JsonElement> Array(string name)
    {
        if (!item.TryGetProperty(name, out var value))
        {
            Fail(name, "missing");
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            Fail(name, $"a JSON {value.ValueKind}, not an array");
            return [];
        }
        return [.. value.EnumerateArray()];
    }

    /// <summary>A hex quantity as the JSON-RPC spec writes it: 0x, then 1..64 hex digits (leading zeros tolerated).</summary>
    public static bool TryParseQuantity(string? text, out BigInteger value)
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

    private string? Text(string name)
    {
        if (!item.TryGetProperty(name, out var value))
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
