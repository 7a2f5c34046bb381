using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

/// <summary>A stream that reads from one buffer and writes to another: one side of a conversation, scripted.</summary>
internal sealed class ScriptedStream(byte[] input) : Stream
{
    private readonly MemoryStream _input = new(input, writable: false);

    public MemoryStream Written { get; } = new();

    /// <summary>Bytes of the input read so far.</summary>
    public long Consumed => _input.Position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>A stream whose reads wait until cancelled and whose writes vanish: a peer that accepted and went silent.</summary>
internal sealed class SilentStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>A MAC state whose digest never changes: geth's fakeHash in TestFrameReadWrite.</summary>
internal sealed class ConstantMacState(byte[] digest) : IMacState
{
    public void Update(ReadOnlySpan<byte> data)
    {
    }

    public void Digest(Span<byte> digest32) => digest.CopyTo(digest32);
}
