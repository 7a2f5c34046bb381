using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// A hand-driven devp2p client for the real node's listener, on loopback: it goes as far into the session as the test
/// wants (TCP only, the RLPx handshake, Hello, the eth Status — its own, or the node's echoed back with one lie in it),
/// then misbehaves: writes bytes that are no frame, breaks a frame's MAC, or goes silent. Afterwards it reads what the
/// node sent until the node's Disconnect, to assert the reason. Only the public RLPx API: what any client could do.
/// </summary>
internal sealed class DevP2pRawClient : IAsyncDisposable
{
    /// <summary>eth's first message code after the p2p codes: Status, 0x10.</summary>
    private const ulong EthStatus = P2pMessageCodes.BaseProtocolLength;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly NodeKey _key = NodeKey.Generate();
    private readonly Enode _node;
    private readonly NetworkStream _socket;
    private readonly TamperingStream _stream;

    private DevP2pRawClient(Enode node, NetworkStream socket)
    {
        _node = node;
        _socket = socket;
        _stream = new TamperingStream(socket);
        Connection = new RlpxConnection(_stream, _key);
    }

    public RlpxConnection Connection { get; }

    public NodeId Id => _key.Id;

    /// <summary>Messages the node sent before its Disconnect, by code (requests included), as read by <see cref="ReadUntilDisconnectAsync"/>.</summary>
    public List<ulong> Received { get; } = [];

    public static async Task<DevP2pRawClient> ConnectAsync(Enode node)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, node.TcpPort).WaitAsync(Bound);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new DevP2pRawClient(node, new NetworkStream(socket, ownsSocket: true));
    }

    /// <summary>The RLPx handshake and Hello (eth/69 offered).</summary>
    public async Task HelloAsync()
    {
        await Connection.HandshakeAsInitiatorAsync(_node.Id, CancellationToken.None).WaitAsync(Bound);
        await Connection.ExchangeHelloAsync(
            new Hello { ClientId = "hostile-test", Capabilities = [new Capability("eth", 69)], NodeId = _key.Id }, CancellationToken.None).WaitAsync(Bound);
    }

    /// <summary>
    /// Hello, then the node's own Status sent back to it after <paramref name="lie"/> (none: it joins as a peer on the
    /// node's own chain, holding what the node holds).
    /// </summary>
    public async Task JoinAsync(StatusLie lie = StatusLie.None)
    {
        await HelloAsync();
        while (true)
        {
            var message = await Connection.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
            if (message.Code == P2pMessageCodes.Ping)
            {
                await Connection.SendPongAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
                continue;
            }
            Assert.Equal(EthStatus, message.Code);
            await Connection.WriteMessageAsync(EthStatus, Tell(lie, message.Payload.ToArray()), CancellationToken.None).AsTask().WaitAsync(Bound);
            return;
        }
    }

    /// <summary>Writes <paramref name="count"/> random bytes straight onto the socket: no frame, no MAC.</summary>
    public async Task SendGarbageAsync(int count = 256)
    {
        var garbage = new byte[count];
        Random.Shared.NextBytes(garbage);
        await _socket.WriteAsync(garbage).AsTask().WaitAsync(Bound);
    }

    /// <summary>Sends a Ping whose frame has one byte of its body flipped on the way out: its header is sound, its frame MAC is not.</summary>
    public async Task SendFrameWithBadMacAsync()
    {
        _stream.FlipByteOfNextWrite(FrameHeaderBytes + 1);
        await Connection.SendPingAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
    }

    /// <summary>
    /// Reads until the node's Disconnect and returns its reason, answering nothing; null if the node closed the
    /// connection without one. What came before is in <see cref="Received"/>.
    /// </summary>
    public async Task<DisconnectReason?> ReadUntilDisconnectAsync()
    {
        try
        {
            while (true)
            {
                var message = await Connection.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Bound);
                if (message.Code == P2pMessageCodes.Disconnect)
                {
                    return P2pMessages.DecodeDisconnect(message.Payload.Span);
                }
                Received.Add(message.Code);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException and not RlpxProtocolException)
        {
            return null;
        }
    }

    /// <summary>Reads the raw socket until the node closes it: true when it did (end of stream or reset), within the bound.</summary>
    public async Task<bool> ClosedByNodeAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (await _socket.ReadAsync(buffer).AsTask().WaitAsync(Bound) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        _key.Dispose();
    }

    /// <summary>Header ciphertext and header MAC: the body of a frame starts after them.</summary>
    private const int FrameHeaderBytes = 32;

    /// <summary>The Status <paramref name="status"/> (eth/69: [version, networkid, genesis, [forkhash, forknext], earliest, latest, latesthash]) with one lie.</summary>
    private static byte[] Tell(StatusLie lie, byte[] status)
    {
        var reader = new RlpReader(status);
        var fields = reader.ReadList();
        fields.SkipItem(); // version
        fields.ReadUInt64(); // network id
        var networkIdEnd = fields.Offset;
        fields.ReadHash256(); // genesis
        var genesisEnd = fields.Offset;
        var forkId = fields.ReadList();
        forkId.ReadBytes(4);
        var forkHashEnd = forkId.Offset;
        var flip = lie switch
        {
            StatusLie.None => -1,
            // The last byte of each: the length and RLP shape stay, the value does not. (The test chain's network id,
            // 3503995874084926, ends in 0x3e: it stays a canonical integer.)
            StatusLie.NetworkId => networkIdEnd - 1,
            StatusLie.Genesis => genesisEnd - 1,
            StatusLie.ForkId => forkHashEnd - 1,
            _ => throw new ArgumentOutOfRangeException(nameof(lie)),
        };
        if (flip >= 0)
        {
            status[flip] ^= 0x02;
        }
        return status;
    }

    /// <summary>A stream that can flip one byte of the next write, to forge a broken MAC under a sound connection.</summary>
    private sealed class TamperingStream(Stream inner) : Stream
    {
        private int _flipAt = -1;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void FlipByteOfNextWrite(int offset) => Volatile.Write(ref _flipAt, offset);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var flipAt = Interlocked.Exchange(ref _flipAt, -1);
            if (flipAt < 0 || flipAt >= buffer.Length)
            {
                return inner.WriteAsync(buffer, cancellationToken);
            }
            var copy = buffer.ToArray();
            copy[flipAt] ^= 0xff;
            return inner.WriteAsync(copy, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>The one thing a <see cref="DevP2pRawClient"/> changes in the node's Status before sending it back.</summary>
internal enum StatusLie
{
    None,
    NetworkId,
    Genesis,
    ForkId,
}
