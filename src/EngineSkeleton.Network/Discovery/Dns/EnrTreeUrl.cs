using System.Diagnostics.CodeAnalysis;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>
/// <c>enrtree://&lt;key&gt;@&lt;domain&gt;</c> (EIP-1459, Specification): the domain holding a tree's root and the
/// base32 of the compressed secp256k1 key that must have signed it. Also the form of a link entry in a tree.
/// </summary>
internal sealed record EnrTreeUrl
{
    public const string Scheme = "enrtree://";

    /// <summary>Longest DNS name (RFC 1035, 2.3.4); a longer domain cannot be resolved.</summary>
    private const int MaxDomainLength = 253;

    private EnrTreeUrl(string key, string domain, ECPubKey publicKey)
    {
        Key = key;
        Domain = domain;
        PublicKey = publicKey;
    }

    /// <summary>The key as the URL writes it (base32 of 33 bytes).</summary>
    public string Key { get; }

    public string Domain { get; }

    internal ECPubKey PublicKey { get; }

    public override string ToString() => $"{Scheme}{Key}@{Domain}";

    public static EnrTreeUrl Parse(string url) =>
        TryParse(url, out var parsed, out var error) ? parsed : throw new DiscoveryException(DiscoveryError.Malformed, $"invalid enrtree URL: {error}");

    public static bool TryParse(string? url, [NotNullWhen(true)] out EnrTreeUrl? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (url is null || !url.StartsWith(Scheme, StringComparison.Ordinal))
        {
            error = $"must start with '{Scheme}'";
            return false;
        }
        var rest = url.AsSpan(Scheme.Length);
        var at = rest.IndexOf('@');
        if (at < 0)
        {
            error = "no '@domain' after the key";
            return false;
        }
        var keyText = rest[..at];
        var domain = rest[(at + 1)..];
        if (domain.IsEmpty || domain.Length > MaxDomainLength || domain.ContainsAny(" @/\t\r\n"))
        {
            error = "the domain is empty, too long or has characters no DNS name has";
            return false;
        }
        if (keyText.Length != 53 || !Base32.TryDecode(keyText, out var keyBytes)
            || !ECPubKey.TryCreate(keyBytes, Context.Instance, out var compressed, out var key) || !compressed)
        {
            error = "the key is not the base32 of a compressed secp256k1 public key";
            return false;
        }
        parsed = new EnrTreeUrl(keyText.ToString(), domain.ToString(), key);
        error = null;
        return true;
    }

    public bool Equals(EnrTreeUrl? other) => other is not null && Key == other.Key && Domain == other.Domain;

    public override int GetHashCode() => HashCode.Combine(Key, Domain);
}
