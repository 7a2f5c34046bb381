namespace EngineSkeleton.Core.Tests.Crypto;

/// <summary>
/// A slow Keccak written straight from FIPS 202 §3 (state as A[x, y], step mappings as loops, round constants
/// and rotation offsets derived from their definitions rather than tabled), to cross-check the unrolled one.
/// </summary>
internal static class KeccakReference
{
    public static byte[] Hash256(ReadOnlySpan<byte> message, byte padding)
    {
        const int rate = 136;
        var padded = new byte[(message.Length / rate + 1) * rate];
        message.CopyTo(padded);
        padded[message.Length] ^= padding;
        padded[^1] ^= 0x80;

        var a = new ulong[5, 5];
        for (var offset = 0; offset < padded.Length; offset += rate)
        {
            for (var i = 0; i < rate / 8; i++)
            {
                a[i % 5, i / 5] ^= BitConverter.ToUInt64(padded, offset + 8 * i);
            }
            KeccakF(a);
        }
        var output = new byte[32];
        for (var i = 0; i < 4; i++)
        {
            BitConverter.GetBytes(a[i, 0]).CopyTo(output, 8 * i);
        }
        return output;
    }

    private static void KeccakF(ulong[,] a)
    {
        for (var round = 0; round < 24; round++)
        {
            // theta
            var c = new ulong[5];
            for (var x = 0; x < 5; x++)
            {
                for (var y = 0; y < 5; y++)
                {
                    c[x] ^= a[x, y];
                }
            }
            for (var x = 0; x < 5; x++)
            {
                var d = c[(x + 4) % 5] ^ Rotl(c[(x + 1) % 5], 1);
                for (var y = 0; y < 5; y++)
                {
                    a[x, y] ^= d;
                }
            }
            // rho and pi
            var b = new ulong[5, 5];
            for (var x = 0; x < 5; x++)
            {
                for (var y = 0; y < 5; y++)
                {
                    b[y, (2 * x + 3 * y) % 5] = Rotl(a[x, y], RhoOffset(x, y));
                }
            }
            // chi
            for (var x = 0; x < 5; x++)
            {
                for (var y = 0; y < 5; y++)
                {
                    a[x, y] = b[x, y] ^ (~b[(x + 1) % 5, y] & b[(x + 2) % 5, y]);
                }
            }
            // iota
            for (var j = 0; j <= 6; j++)
            {
                if (Rc(j + 7 * round))
                {
                    a[0, 0] ^= 1UL << ((1 << j) - 1);
                }
            }
        }
    }

    private static int RhoOffset(int x, int y)
    {
        if (x == 0 && y == 0)
        {
            return 0;
        }
        var (px, py) = (1, 0);
        for (var t = 0; t < 24; t++)
        {
            if (px == x && py == y)
            {
                return (t + 1) * (t + 2) / 2 % 64;
            }
            (px, py) = (py, (2 * px + 3 * py) % 5);
        }
        throw new InvalidOperationException("unreachable");
    }

    private static bool Rc(int t)
    {
        var r = 1;
        for (var i = 0; i < t % 255; i++)
        {
            r <<= 1;
            if ((r & 0x100) != 0)
            {
                r ^= 0x171;
            }
        }
        return (r & 1) != 0;
    }

    private static ulong Rotl(ulong v, int n) => n == 0 ? v : (v << n) | (v >> (64 - n));
}
