using System.Globalization;
using System.Numerics;
using System.Text.Json;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Engine.Wire;

/// <summary>
/// Strict readers for Engine API parameters. A field that is absent or null is missing (execution-apis cancun.md:
/// "Any field having null value MUST be considered as not provided"); DATA must be 0x-prefixed even-length hex;
/// QUANTITY must be 0x-prefixed hex without leading zeros. Every failure is -32602 naming the field.
/// </summary>
internal static class Params
{
    public static bool IsMissing(JsonElement e) => e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;

    public static JsonElement RequireObject(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object ? e
        : IsMissing(e) ? throw RpcException.InvalidParams($"missing {name}")
        : throw RpcException.InvalidParams($"{name} is not an object");

    public static JsonElement RequireArray(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Array ? e
        : IsMissing(e) ? throw RpcException.InvalidParams($"missing {name}")
        : throw RpcException.InvalidParams($"{name} is not an array");

    /// <summary>The field, or Undefined when absent; null stays null so callers can treat both as missing.</summary>
    public static JsonElement Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value : default;

    public static bool Has(JsonElement obj, string name) => !IsMissing(Field(obj, name));

    public static Hash256 Hash(JsonElement obj, string name) => HashValue(Field(obj, name), name);

    public static Hash256 HashValue(JsonElement e, string name) =>
        Hash256.TryParse(String(e, name), out var hash) ? hash : throw RpcException.InvalidParams($"{name} is not a 32-byte hex hash");

    public static Address Address(JsonElement obj, string name) =>
        new(Fixed(Field(obj, name), name, Core.Primitives.Address.Size));

    public static byte[] Data(JsonElement obj, string name) => DataValue(Field(obj, name), name);

    public static byte[] DataValue(JsonElement e, string name) =>
        Hex.TryDecode(String(e, name), out var bytes) ? bytes : throw RpcException.InvalidParams($"{name} is not 0x-prefixed hex data");

    public static byte[] Fixed(JsonElement e, string name, int length) =>
        Hex.TryDecodeFixed(String(e, name), length, out var bytes) ? bytes : throw RpcException.InvalidParams($"{name} is not {length} bytes of hex data");

    public static ulong UInt64(JsonElement obj, string name) => UInt64Value(Field(obj, name), name);

    public static ulong UInt64Value(JsonElement e, string name)
    {
        var digits = QuantityDigits(e, name);
        return digits.Length <= 16 && ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw RpcException.InvalidParams($"{name} does not fit in 64 bits");
    }

    public static BigInteger UInt256(JsonElement obj, string name)
    {
        var digits = QuantityDigits(Field(obj, name), name);
        return digits.Length <= 64
            ? BigInteger.Parse("0" + digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
            : throw RpcException.InvalidParams($"{name} does not fit in 256 bits");
    }

    public static bool Bool(JsonElement e, string name) =>
        e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw RpcException.InvalidParams(IsMissing(e) ? $"missing {name}" : $"{name} is not a boolean"),
        };

    private static string QuantityDigits(JsonElement e, string name)
    {
        var s = String(e, name);
        if (s.Length < 3 || s[0] != '0' || s[1] != 'x')
        {
            throw RpcException.InvalidParams($"{name} is not a 0x-prefixed hex quantity");
        }
        var digits = s[2..];
        if (digits.Length > 1 && digits[0] == '0')
        {
            throw RpcException.InvalidParams($"{name} has leading zero digits");
        }
        foreach (var c in digits)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                throw RpcException.InvalidParams($"{name} is not a hex quantity");
            }
        }
        return digits;
    }

    private static string String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()!
        : IsMissing(e) ? throw RpcException.InvalidParams($"missing {name}")
        : throw RpcException.InvalidParams($"{name} is not a string");

    public static string Quantity(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Quantity(BigInteger value) => value.IsZero ? "0x0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
}
