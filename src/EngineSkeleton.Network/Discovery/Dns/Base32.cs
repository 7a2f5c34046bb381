namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>RFC 4648 base32 (upper-case alphabet) without padding, as EIP-1459 writes hashes and keys.</summary>
internal static class Base32
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[(bytes.Length * 8 + 4) / 5];
        var bits = 0;
        var buffer = 0;
        var index = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                chars[index++] = Alphabet[(buffer >> bits) & 31];
            }
        }
        if (bits > 0)
        {
            chars[index] = Alphabet[(buffer << (5 - bits)) & 31];
        }
        return new string(chars);
    }

    /// <summary>
    /// Decodes unpadded upper-case base32; false on any other character, on a length no byte count gives, or on
    /// non-zero bits left over (so that each byte string has one text form, as Go's strict decoder requires).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        var remainder = text.Length % 8;
        if (remainder is 1 or 3 or 6)
        {
            return false;
        }
        var output = new byte[text.Length * 5 / 8];
        var bits = 0;
        var buffer = 0;
        var index = 0;
        foreach (var c in text)
        {
            var value = Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (value < 0)
            {
                return false;
            }
            buffer = ((buffer << 5) | value) & 0xfff;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output[index++] = (byte)(buffer >> bits);
            }
        }
        if ((buffer & ((1 << bits) - 1)) != 0)
        {
            return false;
        }
        bytes = output;
        return true;
    }
}
