using System.Security.Cryptography;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// This node's static secp256k1 private key (rlpx.md, Node Identity): it signs nothing itself but proves the node's
/// <see cref="Id"/> through the handshake's key agreements. Keep it across restarts; geth stores it as 64 hex digits in
/// <c>nodekey</c>. Dispose clears the key from memory.
/// </summary>
public sealed class NodeKey : IDisposable
{
    public const int Size = 32;

    private readonly ECPrivKey _key;

    private NodeKey(ECPrivKey key)
    {
        _key = key;
        Id = NodeId.FromPublicKey(key.CreatePubKey());
    }

    public NodeId Id { get; }

    internal ECPrivKey PrivateKey => _key;

    /// <summary>A fresh key from the operating system's random generator.</summary>
    public static NodeKey Generate() => new(Secp256k1Keys.Generate());

    /// <summary>The key of 32 big-endian bytes; throws if it is zero or not below the curve order.</summary>
    public static NodeKey FromBytes(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != Size)
        {
            throw new ArgumentException($"a node key is {Size} bytes, got {privateKey.Length}", nameof(privateKey));
        }
        if (!ECPrivKey.TryCreate(privateKey, Context.Instance, out var key))
        {
            throw new ArgumentException("a node key must be above zero and below the secp256k1 order", nameof(privateKey));
        }
        return new NodeKey(key);
    }

    /// <summary>The key as 64 hex digits (with or without 0x), as geth's <c>nodekey</c> file holds it.</summary>
    public static NodeKey FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var digits = hex.Trim();
        digits = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? digits[2..] : digits;
        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(digits);
        }
        catch (FormatException)
        {
            throw new FormatException($"a node key is {Size * 2} hex digits");
        }
        try
        {
            return FromBytes(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The 32 private bytes, to save the key; the caller clears them.</summary>
    public byte[] ExportPrivateKey()
    {
        var bytes = new byte[Size];
        _key.WriteToSpan(bytes);
        return bytes;
    }

    public void Dispose() => _key.Dispose();
}
