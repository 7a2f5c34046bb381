using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace EngineSkeleton.Server.Auth;

/// <summary>
/// The 32-byte HS256 secret shared with the consensus client (execution-apis src/engine/authentication.md, docs/rpc.md (JWT)).
/// The file holds 64 hex characters, optionally prefixed with <c>0x</c>; surrounding whitespace is ignored.
/// </summary>
internal sealed partial class JwtSecret
{
    /// <summary>The spec fixes the key at 256 bits; hive checks a 31- and a 33-byte key are refused.</summary>
    public const int Length = 32;

    private readonly byte[] _key;

    private JwtSecret(byte[] key) => _key = key;

    /// <summary>The raw key bytes (a copy: the secret itself stays private to this type).</summary>
    public byte[] ToArray() => (byte[])_key.Clone();

    /// <summary>Wraps exactly <see cref="Length"/> bytes; anything else is refused.</summary>
    public static JwtSecret FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length)
        {
            throw new ArgumentException($"jwt secret must be {Length} bytes, got {key.Length}", nameof(key));
        }

        return new JwtSecret(key.ToArray());
    }

    /// <summary>A fresh secret from the OS's cryptographic random source.</summary>
    public static JwtSecret CreateRandom() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>Parses the text of a secret file; <paramref name="error"/> says what is wrong in one line.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out JwtSecret? secret, [NotNullWhen(false)] out string? error)
    {
        secret = null;
        var hex = text.Trim();
        if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[2..];
        }

        if (hex.IsEmpty)
        {
            error = "jwt secret is empty, expected 64 hex characters (32 bytes)";
            return false;
        }

        if (hex.Length % 2 != 0 || !IsHex(hex))
        {
            error = $"jwt secret is not valid hex ({hex.Length} characters), expected 64 hex characters (32 bytes)";
            return false;
        }

        if (hex.Length != Length * 2)
        {
            error = $"jwt secret is {hex.Length / 2} bytes, expected exactly {Length} bytes (64 hex characters)";
            return false;
        }

        var key = Convert.FromHexString(hex);
        secret = new JwtSecret(key);
        error = null;
        return true;
    }

    /// <summary>Reads a secret file.</summary>
    /// <exception cref="InvalidDataException">The file does not hold a 32-byte hex secret; the message names the file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static JwtSecret Load(string path)
    {
        var text = File.ReadAllText(path);
        return TryParse(text, out var secret, out var error)
            ? secret
            : throw new InvalidDataException($"{error}: {Path.GetFullPath(path)}");
    }

    /// <summary>
    /// Reads the secret at <paramref name="path"/>, or, when there is no file, writes a random one there with mode 0600
    /// (as geth does for <c>--authrpc.jwtsecret</c>) and logs where, so the operator can hand it to the beacon node.
    /// </summary>
    public static JwtSecret LoadOrCreate(string path, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (File.Exists(path))
        {
            var loaded = Load(path);
            Log.SecretLoaded(logger, Path.GetFullPath(path));
            return loaded;
        }

        var secret = CreateRandom();
        // geth writes the 0x-prefixed form; every consensus client reads both.
        if (!SecretFile.TryCreate(path, "0x" + Convert.ToHexStringLower(secret._key)))
        {
            return Load(path); // another process created it between the check and the create: theirs wins
        }

        Log.SecretCreated(logger, Path.GetFullPath(path));
        return secret;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Loaded JWT secret path={Path}")]
        public static partial void SecretLoaded(ILogger logger, string path);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Generated JWT secret, give it to the consensus client path={Path}")]
        public static partial void SecretCreated(ILogger logger, string path);
    }
}
