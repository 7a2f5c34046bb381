using System.Buffers.Text;
using System.Net;
using System.Text;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Network.DevP2p.Rlpx;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.Discovery.Enr;

/// <summary>
/// A signed node record (EIP-778): <c>[signature, seq, k, v, ...]</c> with the keys sorted and unique, at most
/// <see cref="MaxSize"/> bytes, under the "v4" identity scheme (a compressed secp256k1 key under <c>secp256k1</c>, a
/// 64-byte r || s signature over keccak256 of <c>rlp([seq, k, v, ...])</c>). Only records whose signature verifies
/// exist: <see cref="Decode"/> and <see cref="Parse"/> check it, and our own are made by <see cref="LocalEnr"/>.
/// Values are kept as their raw RLP items, so unknown keys survive and re-encoding gives the same bytes.
/// </summary>
internal sealed class EnrRecord
{
    /// <summary>EIP-778: "The maximum encoded size of a node record is 300 bytes."</summary>
    public const int MaxSize = 300;

    /// <summary>The text form's prefix (EIP-778, Text Encoding).</summary>
    public const string TextPrefix = "enr:";

    /// <summary>The v4 scheme's signature: r || s without the recovery id (enr.md, "v4" Identity Scheme).</summary>
    public const int SignatureSize = 64;

    /// <summary>Base64 of 300 bytes is 400 characters; anything longer is refused before it is decoded.</summary>
    private const int MaxTextLength = 4 * ((MaxSize + 2) / 3);

    private readonly byte[] _encoded;
    private readonly KeyValuePair<string, byte[]>[] _pairs;

    private EnrRecord(byte[] encoded, ulong seq, KeyValuePair<string, byte[]>[] pairs, NodeId publicKey)
    {
        _encoded = encoded;
        Seq = seq;
        _pairs = pairs;
        PublicKey = publicKey;
        Id = Keccak256.Hash(publicKey.Bytes);
    }

    public ulong Seq { get; }

    /// <summary>The signer's key, uncompressed without its 0x04 prefix: the node's RLPx identity.</summary>
    public NodeId PublicKey { get; }

    /// <summary>The node id of the v4 scheme: keccak256 of the uncompressed key's x || y (enr.md).</summary>
    public Hash256 Id { get; }

    /// <summary>The keys in their (sorted) order.</summary>
    public IEnumerable<string> Keys => _pairs.Select(pair => pair.Key);

    public ReadOnlySpan<byte> Encoded => _encoded;

    public IPAddress? Ip => TryGetAddress(EnrKeys.Ip, 4);

    public IPAddress? Ip6 => TryGetAddress(EnrKeys.Ip6, 16);

    public int? Tcp => TryGetPort(EnrKeys.Tcp);

    public int? Udp => TryGetPort(EnrKeys.Udp);

    public int? Tcp6 => TryGetPort(EnrKeys.Tcp6);

    public int? Udp6 => TryGetPort(EnrKeys.Udp6);

    /// <summary>The compressed key, as the record holds it.</summary>
    public ReadOnlySpan<byte> Secp256k1 => TryStringPayload(RawValue(EnrKeys.Secp256k1), out var key) ? key : [];

    /// <summary>
    /// The fork id of the <c>eth</c> entry, <c>[[forkHash, forkNext], ...]</c> (devp2p eth.md, ENR structure); later
    /// elements are ignored, as geth ignores them. Null when the record has no <c>eth</c> entry or it is malformed.
    /// </summary>
    public ForkId? EthForkId
    {
        get
        {
            if (RawValue(EnrKeys.Eth) is not { } raw)
            {
                return null;
            }
            try
            {
                var reader = new RlpReader(raw);
                var entry = reader.ReadList();
                return ForkId.Read(ref entry);
            }
            catch (RlpException)
            {
                return null;
            }
        }
    }

    /// <summary>The RLP item stored under <paramref name="key"/>, or null.</summary>
    public byte[]? RawValue(string key)
    {
        foreach (var pair in _pairs)
        {
            if (pair.Key == key)
            {
                return pair.Value;
            }
        }
        return null;
    }

    /// <summary>The text form: <c>enr:</c> and the record in base64url without padding.</summary>
    public override string ToString() => TextPrefix + Base64Url.EncodeToString(_encoded);

    /// <summary>Parses the text form and verifies the record; throws <see cref="DiscoveryException"/>.</summary>
    public static EnrRecord Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith(TextPrefix, StringComparison.Ordinal))
        {
            throw Malformed($"a node record's text starts with '{TextPrefix}'");
        }
        var body = text.AsSpan(TextPrefix.Length);
        if (body.Length > MaxTextLength)
        {
            throw new DiscoveryException(DiscoveryError.TooLarge, $"record text of {body.Length} characters is over the {MaxTextLength} that {MaxSize} bytes take");
        }
        if (body.Contains('='))
        {
            throw Malformed("record text must be base64url without padding");
        }
        Span<byte> bytes = stackalloc byte[MaxSize + 3];
        if (Base64Url.DecodeFromChars(body, bytes, out var consumed, out var written) != System.Buffers.OperationStatus.Done || consumed != body.Length)
        {
            throw Malformed("record text is not base64url");
        }
        return Decode(bytes[..written]);
    }

    /// <summary>Decodes the RLP form and verifies the record; throws <see cref="DiscoveryException"/>.</summary>
    public static EnrRecord Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length > MaxSize)
        {
            throw new DiscoveryException(DiscoveryError.TooLarge, $"record of {encoded.Length} bytes is over the {MaxSize}-byte limit");
        }
        try
        {
            var outer = new RlpReader(encoded);
            var rlp = outer.ReadRawItem();
            outer.EnsureEnd();
            return ReadVerified(rlp);
        }
        catch (RlpException e)
        {
            throw new DiscoveryException(DiscoveryError.Malformed, $"node record: {e.Message}", e);
        }
    }

    /// <summary>Reads one record from <paramref name="reader"/> (inside a discv4 ENRResponse, say).</summary>
    public static EnrRecord Read(ref RlpReader reader)
    {
        ReadOnlySpan<byte> rlp;
        try
        {
            rlp = reader.ReadRawItem();
        }
        catch (RlpException e)
        {
            throw new DiscoveryException(DiscoveryError.Malformed, $"node record: {e.Message}", e);
        }
        return Decode(rlp);
    }

    private static EnrRecord ReadVerified(ReadOnlySpan<byte> rlp)
    {
        var list = new RlpReader(rlp).ReadList();
        var signature = list.ReadBytes();
        var contentStart = list.Offset;
        var seq = list.ReadUInt64();
        // Every pair costs at least two bytes, so the count is bounded by the 300 bytes already checked.
        var pairs = new List<KeyValuePair<string, byte[]>>();
        string? previous = null;
        while (list.HasMore)
        {
            var key = Encoding.Latin1.GetString(list.ReadBytes());
            if (!list.HasMore)
            {
                throw Malformed($"key '{key}' has no value");
            }
            var value = list.ReadRawItem().ToArray();
            if (previous is not null)
            {
                var order = string.CompareOrdinal(previous, key);
                if (order == 0)
                {
                    throw new DiscoveryException(DiscoveryError.UnsortedKeys, $"key '{key}' appears twice");
                }
                if (order > 0)
                {
                    throw new DiscoveryException(DiscoveryError.UnsortedKeys, $"key '{key}' comes after '{previous}': keys must be sorted");
                }
            }
            previous = key;
            pairs.Add(new(key, value));
        }
        var content = Content(rlp[contentStart..]);
        var array = pairs.ToArray();
        var publicKey = Verify(array, signature, content);
        return new EnrRecord(rlp.ToArray(), seq, array, publicKey);
    }

    /// <summary>rlp([seq, k, v, ...]): the items after the signature under a list header of their own.</summary>
    internal static byte[] Content(ReadOnlySpan<byte> items)
    {
        var content = new byte[RlpWriter.LengthOfList(items.Length)];
        var writer = new RlpWriter(content);
        writer.WriteListHeader(items.Length);
        writer.WriteRaw(items);
        return content;
    }

    private static NodeId Verify(KeyValuePair<string, byte[]>[] pairs, ReadOnlySpan<byte> signature, byte[] content)
    {
        var id = Find(pairs, EnrKeys.Id);
        if (!TryStringPayload(id, out var scheme) || !scheme.SequenceEqual("v4"u8))
        {
            throw new DiscoveryException(DiscoveryError.BadSignature, "only the \"v4\" identity scheme is known");
        }
        var keyItem = Find(pairs, EnrKeys.Secp256k1) ?? throw new DiscoveryException(DiscoveryError.BadSignature, "a v4 record needs a secp256k1 key");
        if (!TryStringPayload(keyItem, out var compressed) || compressed.Length != 33 || !ECPubKey.TryCreate(compressed, Context.Instance, out _, out var publicKey))
        {
            throw new DiscoveryException(DiscoveryError.BadSignature, "the secp256k1 entry is not a compressed public key");
        }
        if (signature.Length != SignatureSize || !SecpECDSASignature.TryCreateFromCompact(signature, out var ecdsa) || ecdsa is null)
        {
            throw new DiscoveryException(DiscoveryError.BadSignature, $"a v4 signature is {SignatureSize} bytes r || s, got {signature.Length}");
        }
        Span<byte> digest = stackalloc byte[32];
        Keccak256.Hash(content, digest);
        if (!publicKey.SigVerify(ecdsa, digest))
        {
            throw new DiscoveryException(DiscoveryError.BadSignature, "the record's signature does not verify against its key");
        }
        return NodeId.FromPublicKey(publicKey);
    }

    private static byte[]? Find(KeyValuePair<string, byte[]>[] pairs, string key)
    {
        foreach (var pair in pairs)
        {
            if (pair.Key == key)
            {
                return pair.Value;
            }
        }
        return null;
    }

    /// <summary>The payload of a raw string item; false for a list (the accessors then say "absent").</summary>
    private static bool TryStringPayload(byte[]? raw, out ReadOnlySpan<byte> payload)
    {
        payload = [];
        if (raw is null)
        {
            return false;
        }
        // Values were read as whole, canonical items when the record was decoded, so this cannot throw.
        var reader = new RlpReader(raw);
        if (reader.PeekIsList)
        {
            return false;
        }
        payload = reader.ReadBytes();
        return true;
    }

    private IPAddress? TryGetAddress(string key, int size) =>
        TryStringPayload(RawValue(key), out var bytes) && bytes.Length == size ? new IPAddress(bytes) : null;

    /// <summary>Ports are uint16 (geth's enr.TCP and enr.UDP); a longer value is not a port.</summary>
    private int? TryGetPort(string key)
    {
        if (!TryStringPayload(RawValue(key), out var bytes) || bytes.Length > 2)
        {
            return null;
        }
        var port = 0;
        foreach (var b in bytes)
        {
            port = (port << 8) | b;
        }
        return port;
    }

    private static DiscoveryException Malformed(string message) => new(DiscoveryError.Malformed, message);
}
