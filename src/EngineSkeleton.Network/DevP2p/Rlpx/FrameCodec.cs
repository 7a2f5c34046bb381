using System.Buffers.Binary;
using System.Security.Cryptography;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// Seals and opens RLPx frames (rlpx.md, Framing): frame = header-ciphertext || header-mac || frame-ciphertext ||
/// frame-mac, where header = frame-size (24-bit big-endian) || [0, 0] || zero padding to 16 bytes and the frame data
/// is zero-padded to 16 bytes. Both directions encrypt with AES-256-CTR under aes-secret and a zero IV, one key
/// stream each. A MAC is checked before its bytes are decrypted. Writers share the egress half (under the
/// connection's write lock), the one reader owns the ingress half; the codec itself takes no locks.
/// </summary>
internal sealed class FrameCodec : IDisposable
{
    public const int HeaderSize = 16;

    /// <summary>Header ciphertext and header MAC, which are read together before anything else.</summary>
    public const int SealedHeaderSize = HeaderSize + FrameMac.Size;

    /// <summary>Largest frame-size the 24-bit field can hold: 2^24 - 1.</summary>
    public const int MaxFrameSize = 0xFFFFFF;

    private readonly AesCtr _encrypt;
    private readonly AesCtr _decrypt;
    private readonly FrameMac _egress;
    private readonly FrameMac _ingress;

    public FrameCodec(HandshakeSecrets secrets)
        : this(secrets?.AesSecret ?? throw new ArgumentNullException(nameof(secrets)), secrets.MacSecret, secrets.EgressMac, secrets.IngressMac)
    {
    }

    internal FrameCodec(ReadOnlySpan<byte> aesSecret, ReadOnlySpan<byte> macSecret, IMacState egress, IMacState ingress)
    {
        // rlpx.md, Known Issues: both directions use the same key and IV. It is the protocol; both sides do it.
        Span<byte> zeroIv = stackalloc byte[AesCtr.BlockSize];
        zeroIv.Clear();
        _encrypt = new AesCtr(aesSecret, zeroIv);
        _decrypt = new AesCtr(aesSecret, zeroIv);
        _egress = new FrameMac(macSecret, egress);
        _ingress = new FrameMac(macSecret, ingress);
    }

    /// <summary>The header-data every frame carries: [capability-id = 0, context-id = 0], unused since RLPx v5.</summary>
    private static ReadOnlySpan<byte> HeaderData => [0xc2, 0x80, 0x80];

    /// <summary>Frame data rounded up to the AES block size.</summary>
    public static int PaddedSize(int frameSize) => (frameSize + AesCtr.BlockSize - 1) & ~(AesCtr.BlockSize - 1);

    /// <summary>Bytes a frame of <paramref name="frameSize"/> bytes of data takes on the wire.</summary>
    public static int SealedSize(int frameSize) => SealedHeaderSize + PaddedSize(frameSize) + FrameMac.Size;

    /// <summary>
    /// Seals a frame in place. <paramref name="buffer"/> holds <see cref="SealedSize"/> bytes: the frame data is at
    /// <see cref="SealedHeaderSize"/> (the caller wrote it there); header, padding and MACs are written around it.
    /// Returns the number of bytes to send.
    /// </summary>
    public int Seal(Span<byte> buffer, int frameSize)
    {
        if (frameSize is < 0 or > MaxFrameSize)
        {
            throw new ArgumentOutOfRangeException(nameof(frameSize), frameSize, $"a frame holds at most {MaxFrameSize} bytes");
        }
        var sealedSize = SealedSize(frameSize);
        if (buffer.Length < sealedSize)
        {
            throw new ArgumentException($"room for {buffer.Length} bytes, the frame takes {sealedSize}", nameof(buffer));
        }
        SealHeader(buffer[..SealedHeaderSize], frameSize);
        var padded = PaddedSize(frameSize);
        var frame = buffer.Slice(SealedHeaderSize, padded);
        frame[frameSize..].Clear();
        _encrypt.Transform(frame);
        _egress.ComputeFrameMac(frame, buffer.Slice(SealedHeaderSize + padded, FrameMac.Size));
        return sealedSize;
    }

    /// <summary>Writes the encrypted header and its MAC for a frame of <paramref name="frameSize"/> bytes.</summary>
    internal void SealHeader(Span<byte> sealedHeader, int frameSize)
    {
        var header = sealedHeader[..HeaderSize];
        header.Clear();
        header[0] = (byte)(frameSize >> 16);
        header[1] = (byte)(frameSize >> 8);
        header[2] = (byte)frameSize;
        HeaderData.CopyTo(header[3..]);
        _encrypt.Transform(header);
        _egress.ComputeHeaderMac(header, sealedHeader.Slice(HeaderSize, FrameMac.Size));
    }

    /// <summary>
    /// Checks the header MAC of the first <see cref="SealedHeaderSize"/> bytes of a frame, decrypts the header and
    /// returns the frame-size it declares. Header-data is not checked: geth ignores it too.
    /// </summary>
    public int OpenHeader(Span<byte> sealedHeader)
    {
        var header = sealedHeader[..HeaderSize];
        Span<byte> expected = stackalloc byte[FrameMac.Size];
        _ingress.ComputeHeaderMac(header, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, sealedHeader.Slice(HeaderSize, FrameMac.Size)))
        {
            throw new RlpxProtocolException(RlpxErrorKind.BadMac, "RLPx frame header MAC does not match");
        }
        _decrypt.Transform(header);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(header) >> 8);
    }

    /// <summary>
    /// Checks the frame MAC of a frame's body (<see cref="PaddedSize"/> bytes of ciphertext, then the MAC) and
    /// decrypts the ciphertext in place.
    /// </summary>
    public void OpenFrame(Span<byte> body)
    {
        if (body.Length < FrameMac.Size || (body.Length - FrameMac.Size) % AesCtr.BlockSize != 0)
        {
            throw new ArgumentException($"a frame body is padded ciphertext and a {FrameMac.Size}-byte MAC, got {body.Length} bytes", nameof(body));
        }
        var frame = body[..^FrameMac.Size];
        Span<byte> expected = stackalloc byte[FrameMac.Size];
        _ingress.ComputeFrameMac(frame, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, body[^FrameMac.Size..]))
        {
            throw new RlpxProtocolException(RlpxErrorKind.BadMac, "RLPx frame MAC does not match");
        }
        _decrypt.Transform(frame);
    }

    public void Dispose()
    {
        _encrypt.Dispose();
        _decrypt.Dispose();
        _egress.Dispose();
        _ingress.Dispose();
    }
}
