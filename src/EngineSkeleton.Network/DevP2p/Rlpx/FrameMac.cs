using System.Security.Cryptography;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The MAC of one direction (rlpx.md, MAC): a keccak256 state fed with the header and frame ciphertexts, each mixed
/// with AES-256-ECB (key mac-secret) of the state's own digest, so that a forged byte changes every later MAC.
/// Reading and writing run the same two steps; the reader compares, the writer sends.
/// </summary>
internal sealed class FrameMac : IDisposable
{
    public const int Size = 16;

    private readonly Aes _aes;
    private readonly IMacState _state;
    private readonly byte[] _digest = new byte[32];
    private readonly byte[] _encrypted = new byte[Size];

    public FrameMac(ReadOnlySpan<byte> macSecret, IMacState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (macSecret.Length != 32)
        {
            throw new ArgumentException($"mac-secret is 32 bytes, got {macSecret.Length}", nameof(macSecret));
        }
        _aes = Aes.Create();
        _aes.Key = macSecret.ToArray();
        _state = state;
    }

    /// <summary>
    /// header-mac: seed = aes(mac-secret, digest[:16]) ^ header-ciphertext; update(seed); mac = digest[:16].
    /// </summary>
    public void ComputeHeaderMac(ReadOnlySpan<byte> headerCiphertext, Span<byte> mac)
    {
        _state.Digest(_digest);
        Mix(headerCiphertext, mac);
    }

    /// <summary>
    /// frame-mac: update(frame-ciphertext); seed = aes(mac-secret, digest[:16]) ^ digest[:16]; update(seed);
    /// mac = digest[:16].
    /// </summary>
    public void ComputeFrameMac(ReadOnlySpan<byte> frameCiphertext, Span<byte> mac)
    {
        _state.Update(frameCiphertext);
        _state.Digest(_digest);
        Mix(_digest.AsSpan(0, Size), mac);
    }

    public void Dispose() => _aes.Dispose();

    private void Mix(ReadOnlySpan<byte> seed, Span<byte> mac)
    {
        _aes.EncryptEcb(_digest.AsSpan(0, Size), _encrypted, PaddingMode.None);
        XorBytes.Xor(_encrypted, seed, _encrypted);
        _state.Update(_encrypted);
        _state.Digest(_digest);
        _digest.AsSpan(0, Size).CopyTo(mac);
    }
}
