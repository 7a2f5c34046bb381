using EngineSkeleton.Server.Auth;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Server.Tests.Auth;

public sealed class JwtValidatorTests
{
    /// <summary>Any fixed instant: the validator must only ever read the injected clock.</summary>
    internal static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly byte[] WrongShort = System.Text.Encoding.ASCII.GetBytes("secretsecretsecretsecretsecrets");
    private static readonly byte[] WrongLong = [0, .. JwtTestTokens.HiveSecret];

    private readonly FakeTimeProvider _time = new(Now);
    private readonly JwtValidator _validator;

    public JwtValidatorTests() => _validator = new JwtValidator(JwtSecret.FromBytes(JwtTestTokens.HiveSecret), _time);

    private static long NowSeconds => Now.ToUnixTimeSeconds();

    /// <summary>hive simulators/ethereum/engine/suites/auth plus the cases of docs/rpc.md (JWT).</summary>
    public static TheoryData<string, string?, string> Cases => new()
    {
        { "hive: no time drift, correct secret passes", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds)), "None" },
        { "hive: incorrect secret (shorter, 31 bytes) fails on the signature", Header(JwtTestTokens.Hs256(WrongShort, NowSeconds)), "BadSignature" },
        { "hive: incorrect secret (longer, zero byte prepended) fails on the signature", Header(JwtTestTokens.Hs256(WrongLong, NowSeconds)), "BadSignature" },
        { "hive: negative drift beyond the limit (-61 s) is stale", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds - 61)), "Stale" },
        { "hive: negative drift within the limit (-59 s) passes", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds - 59)), "None" },
        { "hive: positive drift beyond the limit (+61 s) is future", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds + 61)), "Future" },
        { "hive: positive drift within the limit (+59 s) passes", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds + 59)), "None" },
        { "exactly 60 s of drift still passes, as geth compares with greater-than", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds - 60)), "None" },
        { "alg none is refused even with valid claims", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, alg: "none")), "BadSignature" },
        { "HS512 is refused: HS256 only", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, alg: "HS512")), "BadSignature" },
        { "no Authorization header is missing", null, "Missing" },
        { "a Basic scheme is missing a bearer token", "Basic dXNlcjpwYXNz", "Missing" },
        { "an empty bearer token is missing", "Bearer ", "Missing" },
        { "the bearer scheme is matched case-insensitively, as geth", "bearer " + JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds), "None" },
        { "garbage is malformed", "Bearer not-a-jwt", "Malformed" },
        { "a token without iat is malformed (geth: missing issued-at)", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, iat: null)), "Malformed" },
        { "an exp in the past fails even with a fresh iat", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, exp: NowSeconds - 1)), "Expired" },
        { "an exp equal to now has expired", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, exp: NowSeconds)), "Expired" },
        { "an exp in the future is fine", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, exp: NowSeconds + 5)), "None" },
        { "unknown claims are ignored", Header(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, extraClaims: "\"id\":\"lighthouse\",\"clv\":\"v5\"")), "None" },
        { "a tampered payload fails on the signature", Header(Tamper(JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds))), "BadSignature" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Validates_like_the_spec(string proves, string? authorization, string expected)
    {
        var result = await _validator.ValidateHeaderAsync(authorization).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.Failure.ToString() == expected, $"{proves}: got {result.Failure} ({result.Message})");
    }

    [Fact]
    public async Task A_cached_token_still_goes_stale_with_the_clock()
    {
        var token = JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds);
        Assert.True((await Validate(token)).IsValid);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.True((await Validate(token)).IsValid);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(JwtFailure.Stale, (await Validate(token)).Failure);
    }

    [Fact]
    public async Task A_cached_token_still_expires_with_the_clock()
    {
        var token = JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds, exp: NowSeconds + 10);
        Assert.True((await Validate(token)).IsValid);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(JwtFailure.Expired, (await Validate(token)).Failure);
    }

    [Fact]
    public async Task A_refused_token_is_never_cached()
    {
        var good = JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds);
        var future = JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds + 120);
        Assert.True((await Validate(good)).IsValid);
        Assert.Equal(JwtFailure.Future, (await Validate(future)).Failure);
        // The future token is good once the clock catches up: it was refused for its time, not remembered as bad.
        _time.Advance(TimeSpan.FromSeconds(100));
        Assert.True((await Validate(future)).IsValid);
    }

    [Fact]
    public async Task Mutated_tokens_are_refused_without_throwing()
    {
        // Seeded: a failure replays. Header and payload bytes are mutated; the signature no longer matches them.
        var random = new Random(20260301);
        var good = JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, NowSeconds);
        var signedPart = good.LastIndexOf('.');
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u0000{}\"";
        for (var round = 0; round < 500; round++)
        {
            var chars = good.ToCharArray();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                chars[random.Next(signedPart)] = alphabet[random.Next(alphabet.Length)];
            }

            var token = new string(chars);
            var result = await Validate(token);
            Assert.True(token == good || !result.IsValid, $"round {round}: {token} accepted");
        }
    }

    private Task<JwtValidationResult> Validate(string token) =>
        _validator.ValidateTokenAsync(token).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private static string Header(string token) => "Bearer " + token;

    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = System.Text.Encoding.UTF8.GetBytes($"{{\"iat\":{NowSeconds},\"admin\":true}}");
        parts[1] = Convert.ToBase64String(payload).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return string.Join('.', parts);
    }
}
