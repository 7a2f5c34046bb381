using System.Buffers.Text;
using System.Globalization;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.Discovery.Enr;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>
/// One TXT record of an EIP-1459 tree: the root, a branch, a node record or a link. <see cref="Parse"/> reads the text;
/// <see cref="NameMatches"/> checks that an entry found under a hash name is the entry that hash names.
/// </summary>
internal abstract record EnrTreeEntry
{
    public const string RootPrefix = "enrtree-root:v1";
    public const string BranchPrefix = "enrtree-branch:";

    /// <summary>A hash name decodes to 12 to 32 bytes (geth dnsdisc minHashLength; keccak256 is 32).</summary>
    private const int MinHashLength = 12;

    private const int MaxHashLength = 32;

    /// <summary>Parses an entry; throws <see cref="DiscoveryException"/> for text that is no entry or a broken one.</summary>
    public static EnrTreeEntry Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith(RootPrefix + " ", StringComparison.Ordinal))
        {
            return EnrTreeRoot.ParseRoot(text);
        }
        if (text.StartsWith(BranchPrefix, StringComparison.Ordinal))
        {
            var list = text.AsSpan(BranchPrefix.Length);
            var children = new List<string>();
            if (!list.IsEmpty)
            {
                foreach (var range in list.Split(','))
                {
                    var child = list[range];
                    if (!IsValidHash(child))
                    {
                        throw new DiscoveryException(DiscoveryError.Malformed, $"branch child '{Shorten(child.ToString())}' is not a base32 hash");
                    }
                    children.Add(child.ToString());
                }
            }
            return new EnrTreeBranch(children);
        }
        if (text.StartsWith(EnrTreeUrl.Scheme, StringComparison.Ordinal))
        {
            return new EnrTreeLink(EnrTreeUrl.Parse(text));
        }
        if (text.StartsWith(EnrRecord.TextPrefix, StringComparison.Ordinal))
        {
            return new EnrTreeLeaf(EnrRecord.Parse(text));
        }
        throw new DiscoveryException(DiscoveryError.Malformed, $"'{Shorten(text)}' is not an enrtree entry");
    }

    /// <summary>The name a tree gives an entry: base32 of the first 16 bytes of keccak256 of its text (EIP-1459).</summary>
    public static string HashName(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Base32.Encode(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(text)).Bytes[..16]);
    }

    /// <summary>True if keccak256 of <paramref name="text"/> begins with the bytes the base32 <paramref name="hashName"/> gives.</summary>
    public static bool NameMatches(string hashName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Base32.TryDecode(hashName, out var prefix) || prefix.Length is < MinHashLength or > MaxHashLength)
        {
            return false;
        }
        return Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(text)).Bytes.StartsWith(prefix);
    }

    internal static bool IsValidHash(ReadOnlySpan<char> name) =>
        Base32.TryDecode(name, out var bytes) && bytes.Length is >= MinHashLength and <= MaxHashLength;

    internal static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}

/// <summary>
/// <c>enrtree-root:v1 e=&lt;enr-root&gt; l=&lt;link-root&gt; seq=&lt;n&gt; sig=&lt;signature&gt;</c>: the signature is 65
/// bytes (r || s || v) in base64url, over keccak256 of the text before <c> sig=</c>.
/// </summary>
internal sealed record EnrTreeRoot(string EnrRoot, string LinkRoot, ulong Seq, byte[] Signature) : EnrTreeEntry
{
    private const int SignatureSize = 65;

    /// <summary>The signed part: the root's text without <c> sig=…</c>.</summary>
    public string SignedText => string.Create(CultureInfo.InvariantCulture, $"{RootPrefix} e={EnrRoot} l={LinkRoot} seq={Seq}");

    public override string ToString() => $"{SignedText} sig={Base64Url.EncodeToString(Signature)}";

    /// <summary>True if the root was signed by the key of <paramref name="url"/> (the recovery id is not needed).</summary>
    public bool IsSignedBy(EnrTreeUrl url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!SecpECDSASignature.TryCreateFromCompact(Signature.AsSpan(0, 64), out var signature) || signature is null)
        {
            return false;
        }
        var digest = Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(SignedText));
        return url.PublicKey.SigVerify(signature, digest.Bytes);
    }

    internal static EnrTreeRoot ParseRoot(string text)
    {
        var parts = text.Split(' ');
        if (parts.Length != 5 || !parts[1].StartsWith("e=", StringComparison.Ordinal) || !parts[2].StartsWith("l=", StringComparison.Ordinal)
            || !parts[3].StartsWith("seq=", StringComparison.Ordinal) || !parts[4].StartsWith("sig=", StringComparison.Ordinal))
        {
            throw new DiscoveryException(DiscoveryError.Malformed, $"root '{Shorten(text)}' is not '{RootPrefix} e=… l=… seq=… sig=…'");
        }
        var enrRoot = parts[1][2..];
        var linkRoot = parts[2][2..];
        if (!IsValidHash(enrRoot) || !IsValidHash(linkRoot))
        {
            throw new DiscoveryException(DiscoveryError.Malformed, "root's e= or l= is not a base32 hash");
        }
        var seqText = parts[3].AsSpan(4);
        if (seqText.IsEmpty || seqText.ContainsAnyExcept("0123456789") || !ulong.TryParse(seqText, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            throw new DiscoveryException(DiscoveryError.Malformed, $"root's seq '{Shorten(seqText.ToString())}' is not a decimal number");
        }
        var sigText = parts[4].AsSpan(4);
        Span<byte> signature = stackalloc byte[SignatureSize + 3];
        if (sigText.Length > 88 || sigText.Contains('=')
            || Base64Url.DecodeFromChars(sigText, signature, out _, out var written) != System.Buffers.OperationStatus.Done || written != SignatureSize)
        {
            throw new DiscoveryException(DiscoveryError.BadSignature, $"root's sig is not {SignatureSize} bytes of base64url");
        }
        return new EnrTreeRoot(enrRoot, linkRoot, seq, signature[..SignatureSize].ToArray());
    }
}

/// <summary><c>enrtree-branch:&lt;h1&gt;,&lt;h2&gt;,…</c>: the hash names of the children.</summary>
internal sealed record EnrTreeBranch(IReadOnlyList<string> Children) : EnrTreeEntry
{
    public override string ToString() => BranchPrefix + string.Join(',', Children);
}

/// <summary><c>enr:…</c>: a node record, verified when parsed.</summary>
internal sealed record EnrTreeLeaf(EnrRecord Record) : EnrTreeEntry
{
    public override string ToString() => Record.ToString();
}

/// <summary><c>enrtree://…</c>: a link to another tree, allowed only under the link root.</summary>
internal sealed record EnrTreeLink(EnrTreeUrl Url) : EnrTreeEntry
{
    public override string ToString() => Url.ToString();
}
