namespace EngineSkeleton.Testing.Net;

/// <summary>
/// A body as a socket hands it over: not seekable (so no length is known), at most <paramref name="readSize"/> bytes a
/// read, after <paramref name="leadingSpaces"/> bytes of whitespace, in reads as large as asked (to move where a
/// reader's buffer ends within the body without copying it).
/// </summary>
public sealed class ChunkedStream(byte[] data, int readSize, int leadingSpaces = 0) : Stream
{
    private int _spaces;

    /// <summary>Bytes of the body (not the leading whitespace) handed out so far.</summary>
    public int Consumed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_spaces < leadingSpaces)
        {
            var spaces = Math.Min(buffer.Length, leadingSpaces - _spaces); // as fast as the reader takes them
            buffer[..spaces].Fill((byte)' ');
            _spaces += spaces;
            return spaces;
        }
        var n = Math.Min(Math.Min(buffer.Length, readSize), data.Length - Consumed);
        data.AsSpan(Consumed, n).CopyTo(buffer);
        Consumed += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
