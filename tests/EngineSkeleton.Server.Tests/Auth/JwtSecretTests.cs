using System.Text;
using EngineSkeleton.Server.Auth;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Server.Tests.Auth;

public sealed class JwtSecretTests : IDisposable
{
    private static readonly string HiveHex = Convert.ToHexStringLower(JwtTestTokens.HiveSecret);

    private readonly string _dir = Directory.CreateTempSubdirectory("jwtsecret-").FullName;

    public static TheoryData<string, string, bool> ParseCases => new()
    {
        { "64 hex characters are a 32-byte secret", HiveHex, true },
        { "a 0x prefix is accepted, as geth writes it", "0x" + HiveHex, true },
        { "a 0X prefix and upper-case hex are accepted", "0X" + HiveHex.ToUpperInvariant(), true },
        { "surrounding whitespace and a trailing newline are trimmed", "  \t0x" + HiveHex + "\r\n", true },
        { "a 31-byte secret is refused (hive: incorrect secret, shorter)", Convert.ToHexString(Encoding.ASCII.GetBytes("secretsecretsecretsecretsecrets")), false },
        { "a 33-byte secret (zero byte prepended) is refused (hive: incorrect secret, longer)", "00" + HiveHex, false },
        { "an odd number of hex digits is refused", HiveHex[..63], false },
        { "a non-hex character is refused", "0x" + HiveHex[..62] + "zz", false },
        { "whitespace inside the hex is refused", HiveHex[..32] + " " + HiveHex[32..], false },
        { "an empty file is refused", "", false },
        { "a bare 0x is refused", "0x", false },
    };

    [Theory]
    [MemberData(nameof(ParseCases))]
    public void Parses_the_spec_format(string proves, string text, bool accepted)
    {
        var ok = JwtSecret.TryParse(text, out var secret, out var error);
        Assert.True(ok == accepted, proves + ": " + error);
        if (ok)
        {
            Assert.Equal(JwtTestTokens.HiveSecret, secret!.ToArray());
        }
        else
        {
            Assert.Contains("32 bytes", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_malformed_file_fails_with_one_line_naming_the_file()
    {
        var path = Path.Combine(_dir, "short");
        File.WriteAllText(path, "0x" + Convert.ToHexString(new byte[31]));
        var ex = Assert.Throws<InvalidDataException>(() => JwtSecret.Load(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("31 bytes", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void LoadOrCreate_writes_a_0600_secret_once_and_reads_it_back()
    {
        var path = Path.Combine(_dir, "nested", "jwtsecret");
        var created = JwtSecret.LoadOrCreate(path, NullLogger.Instance);
        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var text = File.ReadAllText(path);
        Assert.StartsWith("0x", text, StringComparison.Ordinal);
        Assert.Equal(66, text.Length);

        var loaded = JwtSecret.LoadOrCreate(path, NullLogger.Instance);
        Assert.Equal(created.ToArray(), loaded.ToArray());
        Assert.NotEqual(new byte[32], created.ToArray());
    }

    [Fact]
    public void LoadOrCreate_refuses_an_existing_malformed_file_instead_of_replacing_it()
    {
        var path = Path.Combine(_dir, "jwtsecret");
        File.WriteAllText(path, "not hex");
        Assert.Throws<InvalidDataException>(() => JwtSecret.LoadOrCreate(path, NullLogger.Instance));
        Assert.Equal("not hex", File.ReadAllText(path));
    }

    [Fact]
    public void FromBytes_refuses_31_and_33_bytes() =>
        Assert.All(new[] { 31, 33 }, n => Assert.Throws<ArgumentException>(() => JwtSecret.FromBytes(new byte[n])));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
