using System.Security.Cryptography;
using System.Text;

namespace EngineSkeleton.Server.Tests.Auth;

/// <summary>
/// Builds compact JWS tokens by hand, so tests can sign with keys the library would refuse (31 bytes) and write
/// headers no honest client would (alg none, HS512).
/// </summary>
internal static class JwtTestTokens
{
    /// <summary>hive's default Engine API secret (simulators/ethereum/engine/globals): 32 ASCII bytes.</summary>
    public static readonly byte[] HiveSecret = Encoding.ASCII.GetBytes("secretsecretsecretsecretsecretse");

    public static string Hs256(byte[] key, long? iat, long? exp = null, string alg = "HS256", string? extraClaims = null)
    {
        var claims = new List<string>();
        if (iat is { } i)
        {
            claims.Add($"\"iat\":{i}");
        }

        if (exp is { } e)
        {
            claims.Add($"\"exp\":{e}");
        }

        if (extraClaims is not null)
        {
            claims.Add(extraClaims);
        }

        var signingInput = B64($"{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}") + "." + B64("{" + string.Join(",", claims) + "}");
        if (alg == "none")
        {
            return signingInput + ".";
        }

        var signature = alg switch
        {
            "HS512" => HMACSHA512.HashData(key, Encoding.ASCII.GetBytes(signingInput)),
            _ => HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput)),
        };
        return signingInput + "." + Base64Url(signature);
    }

    private static string B64(string json) => Base64Url(Encoding.UTF8.GetBytes(json));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
