using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EngineSkeleton.Server.Auth;

/// <summary>
/// Engine API JWT check (docs/rpc.md (JWT); execution-apis src/engine/authentication.md; hive engine "auth" suite):
/// HS256 only, <c>iat</c> required and within <see cref="MaxIatDrift"/> of our clock, <c>exp</c> honoured when present,
/// other claims ignored. Thread-safe; one instance per secret.
/// </summary>
/// <remarks>
/// A consensus client signs a fresh token every few seconds and sends it on every call, so the last accepted token is
/// cached: a repeat skips parsing and HMAC but its <c>iat</c>/<c>exp</c> are still checked against the clock, so a
/// cached token goes stale exactly like a fresh one.
/// </remarks>
internal sealed partial class JwtValidator
{
    /// <summary>
    /// The spec's ±60 s window; geth's <c>jwtExpiryTimeout</c>. A drift of exactly 60 s still passes (geth compares with
    /// "greater than"); hive checks ±59 s pass and ±61 s fail.
    /// </summary>
    public static readonly TimeSpan MaxIatDrift = TimeSpan.FromSeconds(60);

    private const string BearerPrefix = "Bearer ";

    private readonly JsonWebTokenHandler _handler = new();
    private readonly TokenValidationParameters _parameters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private CachedToken? _last;

    public JwtValidator(JwtSecret secret, TimeProvider time, ILogger<JwtValidator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = (ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKey = new SymmetricSecurityKey(secret.ToArray()),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            // iat/exp are checked below against the injected clock with the spec's window; the library's lifetime
            // rules (nbf, 5-minute skew, required exp) are not the Engine API's.
            ValidateLifetime = false,
            RequireExpirationTime = false,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateIssuerSigningKey = false,
            // Engine API tokens carry no kid; with one key, "try all" means "use this one".
            TryAllIssuerSigningKeys = true,
        };
    }

    /// <summary>Checks the value of an HTTP <c>Authorization</c> header (scheme matched case-insensitively, as geth).</summary>
    public ValueTask<JwtValidationResult> ValidateHeaderAsync(string? authorization)
    {
        if (authorization is null
            || authorization.Length <= BearerPrefix.Length
            || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult(Reject(JwtFailure.Missing, "missing token"));
        }

        return ValidateTokenAsync(authorization[BearerPrefix.Length..]);
    }

    /// <summary>Checks a compact JWS token.</summary>
    public ValueTask<JwtValidationResult> ValidateTokenAsync(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length == 0)
        {
            return ValueTask.FromResult(Reject(JwtFailure.Missing, "missing token"));
        }

        var last = Volatile.Read(ref _last);
        if (last is not null && FixedTimeEquals(last.Token, token))
        {
            return ValueTask.FromResult(CheckClaims(last.IssuedAt, last.Expires));
        }

        return ValidateUncachedAsync(token);
    }

    private async ValueTask<JwtValidationResult> ValidateUncachedAsync(string token)
    {
        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever the parser throws on hostile input (ArgumentException, SecurityTokenMalformedException, ...).
            return Reject(JwtFailure.Malformed, "malformed token");
        }

        // Refused before any key work: 'none' and every other algorithm (docs/rpc.md (JWT)). The library would refuse them
        // too (ValidAlgorithms), but this gives the operator the reason.
        if (!string.Equals(jwt.Alg, SecurityAlgorithms.HmacSha256, StringComparison.Ordinal))
        {
            return Reject(JwtFailure.BadSignature, $"signing method {Truncate(jwt.Alg)} is invalid, only HS256 is accepted");
        }

        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(jwt, _parameters).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Reject(JwtFailure.BadSignature, "signature is invalid");
        }

        if (!result.IsValid)
        {
            // IdentityModel compares HMACs in constant time (its SymmetricSignatureProvider uses Utility.AreEqual).
            return Reject(JwtFailure.BadSignature, "signature is invalid");
        }

        if (!TryGetNumericDate(jwt, JwtRegisteredClaimNames.Iat, out var iat, out var iatPresent) || !iatPresent)
        {
            return Reject(JwtFailure.Malformed, "missing issued-at");
        }

        if (!TryGetNumericDate(jwt, JwtRegisteredClaimNames.Exp, out var exp, out var expPresent))
        {
            return Reject(JwtFailure.Malformed, "malformed expiry");
        }

        var cached = new CachedToken(token, iat, expPresent ? exp : null);
        var outcome = CheckClaims(cached.IssuedAt, cached.Expires);
        if (outcome.IsValid)
        {
            Volatile.Write(ref _last, cached);
        }

        return outcome;
    }

    /// <summary>The same order as geth: expiry first, then iat too old, then iat too new.</summary>
    private JwtValidationResult CheckClaims(long iatSeconds, long? expSeconds)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (expSeconds is { } exp && nowMs >= exp * 1000)
        {
            return Reject(JwtFailure.Expired, "token is expired");
        }

        var driftMs = nowMs - (iatSeconds * 1000);
        if (driftMs > (long)MaxIatDrift.TotalMilliseconds)
        {
            return Reject(JwtFailure.Stale, "stale token");
        }

        if (-driftMs > (long)MaxIatDrift.TotalMilliseconds)
        {
            return Reject(JwtFailure.Future, "future token");
        }

        return JwtValidationResult.Ok;
    }

    private JwtValidationResult Reject(JwtFailure failure, string message)
    {
        Log.Rejected(_logger, failure, message);
        return JwtValidationResult.Fail(failure, message);
    }

    /// <summary>Reads a NumericDate claim (RFC 7519 §2: seconds, integer or not); absent is not an error here.</summary>
    private static bool TryGetNumericDate(JsonWebToken jwt, string claim, out long seconds, out bool present)
    {
        seconds = 0;
        present = jwt.TryGetPayloadValue<object>(claim, out var raw) && raw is not null;
        if (!present)
        {
            return true;
        }

        switch (raw)
        {
            case long l:
                seconds = l;
                return true;
            case int i:
                seconds = i;
                return true;
            case double d when double.IsFinite(d) && Math.Abs(d) < 1e15:
                seconds = (long)Math.Floor(d);
                return true;
            case decimal m when Math.Abs(m) < 1e15m:
                seconds = (long)decimal.Floor(m);
                return true;
            default:
                return false;
        }
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(a.AsSpan()), MemoryMarshal.AsBytes(b.AsSpan()));

    /// <summary>The caller's alg header goes into a log line and a 401 body: keep it short and printable.</summary>
    private static string Truncate(string? alg)
    {
        if (string.IsNullOrEmpty(alg))
        {
            return "(none)";
        }

        var shown = alg.Length <= 16 ? alg : alg[..16];
        return string.Create(shown.Length, shown, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsAsciiLetterOrDigit(s[i]) || s[i] is '-' or '_' or '.' ? s[i] : '?';
            }
        });
    }

    private sealed record CachedToken(string Token, long IssuedAt, long? Expires);

    private static partial class Log
    {
        [LoggerMessage(EventId = 110, Level = LogLevel.Debug, Message = "Refused JWT reason={Reason} detail={Detail}")]
        public static partial void Rejected(ILogger logger, JwtFailure reason, string detail);
    }
}
