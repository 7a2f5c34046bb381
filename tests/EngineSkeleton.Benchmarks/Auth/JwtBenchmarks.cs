using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using EngineSkeleton.Server.Auth;

namespace EngineSkeleton.Benchmarks.Auth;

/// <summary>
/// Cost of the Engine API JWT check per request. A consensus client sends the same token for a few seconds, so the
/// cached path is the common one; the fresh path is what every new token costs.
/// </summary>
[MemoryDiagnoser]
public class JwtBenchmarks
{
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("secretsecretsecretsecretsecretse");
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private JwtValidator _validator = null!;
    private string[] _fresh = null!;
    private string _cached = null!;
    private byte[] _signingInput = null!;
    private byte[] _signature = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _validator = new JwtValidator(JwtSecret.FromBytes(Secret), new FixedClock(Now));
        var iat = Now.ToUnixTimeSeconds();
        // Two tokens taken in turn: the one-entry cache never hits, so every call parses and verifies the HMAC.
        _fresh = [Token(iat), Token(iat - 1)];
        _cached = Token(iat - 2);
        var parts = _cached.Split('.');
        _signingInput = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        _signature = HMACSHA256.HashData(Secret, _signingInput);
        if (!_validator.ValidateTokenAsync(_cached).AsTask().GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("benchmark token refused");
        }
    }

    [Benchmark(Description = "fresh token (parse + HS256 verify)")]
    public bool Fresh()
    {
        var token = _fresh[_next++ & 1];
        return _validator.ValidateTokenAsync(token).AsTask().GetAwaiter().GetResult().IsValid;
    }

    [Benchmark(Description = "repeated token (cache hit, iat/exp re-checked)")]
    public bool Cached() => _validator.ValidateTokenAsync(_cached).GetAwaiter().GetResult().IsValid;

    [Benchmark(Baseline = true, Description = "raw HMAC-SHA256 of the signing input (floor)")]
    public bool RawHmac() => CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(Secret, _signingInput), _signature);

    private static string Token(long iat)
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var input = B64(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")) + "." + B64(Encoding.UTF8.GetBytes($"{{\"iat\":{iat}}}"));
        return input + "." + B64(HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes(input)));
    }

    /// <summary>A clock that stands still, so tokens stay inside the ±60 s window however long the run.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
