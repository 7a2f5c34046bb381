using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using NBitcoin.Secp256k1;
using SHA256 = System.Security.Cryptography.SHA256;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// ECIES as RLPx uses it for auth and ack (rlpx.md, ECIES Encryption): an ephemeral secp256k1 key R agrees a secret S
/// with the recipient's key; the NIST SP 800-56 concatenation KDF with SHA-256 stretches S into an AES-128-CTR key
/// kE and a MAC key whose SHA-256 is kM; the message is R (65 bytes, uncompressed) || iv || AES(kE, iv, m) ||
/// HMAC-SHA-256(kM, iv || c || shared-mac-data). EIP-8 puts the packet's 2-byte size prefix in shared-mac-data.
/// </summary>
internal static class Ecies
{
    /// <summary>Uncompressed secp256k1 point: 0x04 || x || y.</summary>
    public const int PublicKeySize = 65;

    public const int IvSize = AesCtr.BlockSize;

    public const int TagSize = 32;

    /// <summary>Bytes ECIES adds to a plaintext: R, iv and tag (geth's eciesOverhead, 113).</summary>
    public const int Overhead = PublicKeySize + IvSize + TagSize;

    private const int KeySize = 16;

    public static byte[] Encrypt(ECPubKey recipient, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> sharedMacData)
    {
        var output = new byte[Overhead + plaintext.Length];
        Encrypt(recipient, plaintext, sharedMacData, output);
        return output;
    }

    /// <summary>Encrypts into the first <see cref="Overhead"/> + plaintext length bytes of <paramref name="output"/>.</summary>
    public static void Encrypt(ECPubKey recipient, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> sharedMacData, Span<byte> output)
    {
        using var ephemeral = Secp256k1Keys.Generate();
        Span<byte> iv = stackalloc byte[IvSize];
        RandomNumberGenerator.Fill(iv);
        Encrypt(recipient, plaintext, sharedMacData, ephemeral, iv, output);
    }

    /// <summary>Encrypts with a given ephemeral key and IV: for tests that need fixed output.</summary>
    internal static void Encrypt(
        ECPubKey recipient, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> sharedMacData, ECPrivKey ephemeral, ReadOnlySpan<byte> iv, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(ephemeral);
        if (output.Length < Overhead + plaintext.Length)
        {
            throw new ArgumentException($"room for {output.Length} bytes, need {Overhead + plaintext.Length}", nameof(output));
        }
        Span<byte> encryptionKey = stackalloc byte[KeySize];
        Span<byte> macKey = stackalloc byte[32];
        try
        {
            DeriveKeys(ephemeral, recipient, encryptionKey, macKey);
            ephemeral.CreatePubKey().WriteToSpan(compressed: false, output[..PublicKeySize], out _);
            var body = output.Slice(PublicKeySize, IvSize + plaintext.Length);
            iv.CopyTo(body);
            using (var ctr = new AesCtr(encryptionKey, iv))
            {
                ctr.Transform(plaintext, body[IvSize..]);
            }
            ComputeTag(macKey, body, sharedMacData, output.Slice(PublicKeySize + body.Length, TagSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encryptionKey);
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    /// <summary>
    /// Decrypts a message for <paramref name="key"/>; false, with nothing decrypted, if it is too short, its R is not a
    /// point on the curve, or its tag does not match (wrong key, wrong shared-mac-data, tampering).
    /// </summary>
    public static bool TryDecrypt(ECPrivKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> sharedMacData, [NotNullWhen(true)] out byte[]? plaintext)
    {
        ArgumentNullException.ThrowIfNull(key);
        plaintext = null;
        if (message.Length < Overhead || message[0] != 0x04)
        {
            return false;
        }
        if (!ECPubKey.TryCreate(message[..PublicKeySize], Context.Instance, out _, out var ephemeral) || ephemeral is null)
        {
            return false;
        }
        Span<byte> encryptionKey = stackalloc byte[KeySize];
        Span<byte> macKey = stackalloc byte[32];
        Span<byte> tag = stackalloc byte[TagSize];
        try
        {
            DeriveKeys(key, ephemeral, encryptionKey, macKey);
            var body = message[PublicKeySize..^TagSize];
            ComputeTag(macKey, body, sharedMacData, tag);
            if (!CryptographicOperations.FixedTimeEquals(tag, message[^TagSize..]))
            {
                return false;
            }
            plaintext = new byte[body.Length - IvSize];
            using var ctr = new AesCtr(encryptionKey, body[..IvSize]);
            ctr.Transform(body[IvSize..], plaintext);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encryptionKey);
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    /// <summary>
    /// NIST SP 800-56A §5.8.1 concatenation KDF with SHA-256 and no other info: SHA-256(counter || z) for counter =
    /// 1, 2, ... (32-bit big-endian), concatenated and cut to the output's length.
    /// </summary>
    internal static void ConcatKdf(ReadOnlySpan<byte> z, Span<byte> output)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> counter = stackalloc byte[4];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (uint i = 1; !output.IsEmpty; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(counter, i);
            sha.AppendData(counter);
            sha.AppendData(z);
            sha.GetHashAndReset(digest);
            var take = Math.Min(digest.Length, output.Length);
            digest[..take].CopyTo(output);
            output = output[take..];
        }
        CryptographicOperations.ZeroMemory(digest);
    }

    /// <summary>kE = KDF(S)[..16], kM = SHA-256(KDF(S)[16..32]) (geth's ecies.deriveKeys).</summary>
    private static void DeriveKeys(ECPrivKey privateKey, ECPubKey publicKey, Span<byte> encryptionKey, Span<byte> macKey)
    {
        Span<byte> shared = stackalloc byte[Secp256k1Keys.SharedSecretSize];
        Span<byte> keys = stackalloc byte[2 * KeySize];
        Secp256k1Keys.Agree(privateKey, publicKey, shared);
        ConcatKdf(shared, keys);
        keys[..KeySize].CopyTo(encryptionKey);
        SHA256.HashData(keys[KeySize..], macKey);
        CryptographicOperations.ZeroMemory(shared);
        CryptographicOperations.ZeroMemory(keys);
    }

    private static void ComputeTag(ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> ivAndCiphertext, ReadOnlySpan<byte> sharedMacData, Span<byte> tag)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, macKey);
        hmac.AppendData(ivAndCiphertext);
        hmac.AppendData(sharedMacData);
        hmac.GetHashAndReset(tag);
    }
}
