using System.Security.Cryptography;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>The few secp256k1 operations RLPx needs, on NBitcoin.Secp256k1.</summary>
internal static class Secp256k1Keys
{
    /// <summary>Size of a recoverable signature on the wire: r, s and the recovery id (0 or 1), as geth writes it.</summary>
    public const int SignatureSize = 65;

    /// <summary>Size of an ECDH shared secret: the x coordinate of the shared point.</summary>
    public const int SharedSecretSize = 32;

    public static ECPrivKey Generate()
    {
        Span<byte> bytes = stackalloc byte[32];
        try
        {
            while (true)
            {
                RandomNumberGenerator.Fill(bytes);
                // Fails only for zero or a value at or above the order: about 2^-128 of draws.
                if (ECPrivKey.TryCreate(bytes, Context.Instance, out var key))
                {
                    return key;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>ECDH as RLPx and ECIES use it: the x coordinate of <paramref name="privateKey"/> × <paramref name="publicKey"/>.</summary>
    public static void Agree(ECPrivKey privateKey, ECPubKey publicKey, Span<byte> sharedSecret32)
    {
        Span<byte> point = stackalloc byte[65];
        publicKey.GetSharedPubkey(privateKey).WriteToSpan(compressed: false, point, out _);
        point.Slice(1, SharedSecretSize).CopyTo(sharedSecret32);
        CryptographicOperations.ZeroMemory(point);
    }

    /// <summary>Signs a 32-byte digest into r || s || v with v the recovery id (0 or 1), geth's crypto.Sign layout.</summary>
    public static void SignRecoverable(ECPrivKey privateKey, ReadOnlySpan<byte> digest32, Span<byte> signature65)
    {
        if (!privateKey.TrySignRecoverable(digest32, out var signature) || signature is null)
        {
            throw new CryptographicException("secp256k1 signing failed");
        }
        signature.WriteToSpanCompact(signature65[..64], out var recoveryId);
        signature65[64] = (byte)recoveryId;
    }

    /// <summary>Recovers the public key that made a signature in geth's layout; false if none can have.</summary>
    public static bool TryRecover(ReadOnlySpan<byte> signature65, ReadOnlySpan<byte> digest32, out ECPubKey? publicKey)
    {
        publicKey = null;
        // geth's crypto.Ecrecover takes recovery ids 0-3 (libsecp256k1's range); a signer only ever makes 0 or 1.
        return signature65.Length == SignatureSize
            && signature65[64] <= 3
            && SecpRecoverableECDSASignature.TryCreateFromCompact(signature65[..64], signature65[64], out var signature)
            && signature is not null
            && ECPubKey.TryRecover(Context.Instance, signature, digest32, out publicKey);
    }
}
