using System.Security.Cryptography;
using EngineSkeleton.Network.DevP2p.Rlpx;
using NBitcoin.Secp256k1;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>AES-CTR, the concatenation KDF, ECDH and ECIES against published values and against each other.</summary>
public sealed class CryptoTests
{
    [Fact]
    public void AES_128_CTR_matches_NIST_SP_800_38A_F_5_1()
    {
        var key = Convert.FromHexString("2b7e151628aed2a6abf7158809cf4f3c");
        var counter = Convert.FromHexString("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        var plaintext = Convert.FromHexString(
            "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" + "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710");
        var expected = Convert.FromHexString(
            "874d6191b620e3261bef6864990db6ce" + "9806f66b7970fdff8617187bb9fffdff" + "5ae4df3edbd5d35e5b4f09020db03eab" + "1e031dda2fbe03d1792170a0f3009cee");
        using var ctr = new AesCtr(key, counter);
        var output = new byte[plaintext.Length];

        ctr.Transform(plaintext, output);

        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(output));
    }

    [Fact]
    public void AES_CTR_carries_the_counter_across_all_128_bits_and_transforms_in_any_pieces_as_in_one()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = Convert.FromHexString("00000000000000fffffffffffffffffe");
        var data = RandomNumberGenerator.GetBytes(10_000);
        var whole = new byte[data.Length];
        using (var ctr = new AesCtr(key, iv))
        {
            ctr.Transform(data, whole);
        }
        var pieces = data.ToArray();
        using (var ctr = new AesCtr(key, iv))
        {
            var offset = 0;
            foreach (var size in new[] { 1, 15, 16, 17, 4095, 4097, 33 })
            {
                ctr.Transform(pieces.AsSpan(offset, size));
                offset += size;
            }
            ctr.Transform(pieces.AsSpan(offset));
        }
        using var aes = Aes.Create();
        aes.Key = key;
        var blocks = new byte[48];
        Convert.FromHexString("00000000000000fffffffffffffffffe" + "00000000000000ffffffffffffffffff" + "00000000000001000000000000000000").CopyTo(blocks, 0);
        var keyStream = aes.EncryptEcb(blocks, PaddingMode.None);

        Assert.Equal(whole, pieces);
        for (var i = 0; i < 48; i++)
        {
            Assert.Equal((byte)(data[i] ^ keyStream[i]), whole[i]);
        }
    }

    public static TheoryData<int, string> KdfVectors => new()
    {
        { 6, "858b192fa2ed" },
        { 32, "858b192fa2ed4395e2bf88dd8d5770d67dc284ee539f12da8bceaa45d06ebae0" },
        { 48, "858b192fa2ed4395e2bf88dd8d5770d67dc284ee539f12da8bceaa45d06ebae0700f1ab918a5f0413b8140f9940d6955" },
        { 64, "858b192fa2ed4395e2bf88dd8d5770d67dc284ee539f12da8bceaa45d06ebae0700f1ab918a5f0413b8140f9940d6955f3467fd6672cce1024c5b1effccc0f61" },
    };

    /// <summary>geth crypto/ecies TestKDF: SHA-256 concatenation KDF of "input", one or two hash blocks.</summary>
    [Theory]
    [MemberData(nameof(KdfVectors))]
    public void The_concatenation_KDF_matches_geth_vectors(int length, string expected)
    {
        var output = new byte[length];

        Ecies.ConcatKdf("input"u8, output);

        Assert.Equal(expected, Convert.ToHexStringLower(output));
    }

    /// <summary>geth crypto/ecies TestSharedKeyStatic.</summary>
    [Fact]
    public void ECDH_agrees_geth_static_shared_secret_from_both_sides()
    {
        using var one = ECPrivKey.Create(Convert.FromHexString("7ebbc6a8358bc76dd73ebc557056702c8cfc34e5cfcd90eb83af0347575fd2ad"));
        using var two = ECPrivKey.Create(Convert.FromHexString("6a3d6396903245bba5837752b9e0348874e72db0c4e11e9c485a81b4ea4353b9"));
        var fromOne = new byte[32];
        var fromTwo = new byte[32];

        Secp256k1Keys.Agree(one, two.CreatePubKey(), fromOne);
        Secp256k1Keys.Agree(two, one.CreatePubKey(), fromTwo);

        Assert.Equal("167ccc13ac5e8a26b131c3446030c60fbfac6aa8e31149d0869f93626a4cdf62", Convert.ToHexStringLower(fromOne));
        Assert.Equal(fromOne, fromTwo);
    }

    [Fact]
    public void ECIES_decrypts_what_it_encrypted_with_the_same_shared_mac_data_only()
    {
        using var key = NodeKey.Generate();
        using var other = NodeKey.Generate();
        var message = "Hello, world."u8.ToArray();
        var encrypted = Ecies.Encrypt(key.PrivateKey.CreatePubKey(), message, "shared"u8);

        Assert.Equal(Ecies.Overhead + message.Length, encrypted.Length);
        Assert.True(Ecies.TryDecrypt(key.PrivateKey, encrypted, "shared"u8, out var decrypted));
        Assert.Equal(message, decrypted);
        Assert.False(Ecies.TryDecrypt(key.PrivateKey, encrypted, [], out _));
        Assert.False(Ecies.TryDecrypt(other.PrivateKey, encrypted, "shared"u8, out _));
    }

    public static TheoryData<string, int> TamperedBytes => new()
    {
        { "a changed ephemeral key agrees another secret (or is off the curve)", 10 },
        { "a changed IV fails the tag", Ecies.PublicKeySize + 3 },
        { "a changed ciphertext fails the tag", Ecies.PublicKeySize + Ecies.IvSize + 1 },
        { "a changed tag fails", Ecies.PublicKeySize + Ecies.IvSize + 5 + 7 },
    };

    [Theory]
    [MemberData(nameof(TamperedBytes))]
    public void ECIES_refuses_a_tampered_message(string because, int offset)
    {
        using var key = NodeKey.Generate();
        var encrypted = Ecies.Encrypt(key.PrivateKey.CreatePubKey(), "12345"u8, []);
        encrypted[offset] ^= 0x01;

        Assert.False(Ecies.TryDecrypt(key.PrivateKey, encrypted, [], out _), because);
    }

    [Fact]
    public void ECIES_refuses_messages_too_short_or_without_an_uncompressed_key()
    {
        using var key = NodeKey.Generate();
        var encrypted = Ecies.Encrypt(key.PrivateKey.CreatePubKey(), "12345"u8, []);
        var compressedPrefix = encrypted.ToArray();
        compressedPrefix[0] = 0x02;

        Assert.False(Ecies.TryDecrypt(key.PrivateKey, encrypted.AsSpan(0, Ecies.Overhead - 1), [], out _));
        Assert.False(Ecies.TryDecrypt(key.PrivateKey, compressedPrefix, [], out _));
        Assert.False(Ecies.TryDecrypt(key.PrivateKey, [], [], out _));
    }

    [Fact]
    public void A_recoverable_signature_recovers_the_signer_and_not_for_another_digest()
    {
        using var key = NodeKey.Generate();
        var digest = RandomNumberGenerator.GetBytes(32);
        var signature = new byte[Secp256k1Keys.SignatureSize];

        Secp256k1Keys.SignRecoverable(key.PrivateKey, digest, signature);

        Assert.True(signature[64] <= 1);
        Assert.True(Secp256k1Keys.TryRecover(signature, digest, out var recovered));
        Assert.Equal(key.Id, NodeId.FromPublicKey(recovered!));
        digest[0] ^= 1;
        Assert.True(!Secp256k1Keys.TryRecover(signature, digest, out var other) || NodeId.FromPublicKey(other!) != key.Id);
        signature[64] = 4;
        Assert.False(Secp256k1Keys.TryRecover(signature, digest, out _));
    }
}
