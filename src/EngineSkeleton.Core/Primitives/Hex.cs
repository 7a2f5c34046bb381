using System.Diagnostics.CodeAnalysis;
using Nethereum.Hex.HexConvertors.Extensions;

namespace EngineSkeleton.Core.Primitives;

/// <summary>
/// Hex as Ethereum JSON writes it: <c>0x</c>-prefixed, lower case. Strict checks (prefix, even length, digits)
/// come first so that malformed input is refused rather than guessed at; conversion is Nethereum's.
/// </summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    public static byte[] Decode(string hex)
    {
        if (!TryDecode(hex, out var bytes))
        {
            throw new FormatException($"not 0x-prefixed hex bytes: '{Truncate(hex)}'");
        }
        return bytes;
    }

    /// <summary>Decodes 0x-prefixed data of even length; refuses anything else.</summary>
    public static bool TryDecode(string? hex, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (hex is null || hex.Length < 2 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X') || hex.Length % 2 != 0)
        {
            return false;
        }
        for (var i = 2; i < hex.Length; i++)
        {
            if (!char.IsAsciiHexDigit(hex[i]))
            {
                return false;
            }
        }
        // The digits alone: Nethereum strips a lower-case "0x" only and reads "0X" as digits (found by fuzzing).
        bytes = hex.Length == 2 ? [] : hex[2..].HexToByteArray();
        return true;
    }

    public static bool TryDecodeFixed(string? hex, int length, [NotNullWhen(true)] out byte[]? bytes)
    {
        if (TryDecode(hex, out bytes) && bytes.Length == length)
        {
            return true;
        }
        bytes = null;
        return false;
    }

    internal static string Truncate(string? s) => s is null ? "null" : s.Length <= 80 ? s : s[..80] + "...";
}
