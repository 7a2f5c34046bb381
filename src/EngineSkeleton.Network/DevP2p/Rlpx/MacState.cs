using EngineSkeleton.Core.Crypto;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The running keccak256 state of one direction's MAC (rlpx.md, MAC: egress-mac, ingress-mac): updated with every
/// byte sent or received, and read without being finished. An interface so that a test can stand in a constant
/// digest, as geth's frame test vector (p2p/rlpx/rlpx_test.go, TestFrameReadWrite) requires.
/// </summary>
internal interface IMacState
{
    void Update(ReadOnlySpan<byte> data);

    /// <summary>Writes the digest of everything updated so far into 32 bytes, leaving the state as it was.</summary>
    void Digest(Span<byte> digest32);
}

/// <summary>
/// <see cref="IMacState"/> on Core's incremental <see cref="Keccak256.Hasher"/>. A digest finishes a copy of the
/// hasher (a mutable struct copies by value, about 350 bytes), which is what Go's hash.Sum does.
/// </summary>
internal sealed class KeccakMacState : IMacState
{
    private Keccak256.Hasher _hasher;

    public void Update(ReadOnlySpan<byte> data) => _hasher.Append(data);

    public void Digest(Span<byte> digest32)
    {
        var copy = _hasher;
        copy.Finish(digest32);
    }
}
