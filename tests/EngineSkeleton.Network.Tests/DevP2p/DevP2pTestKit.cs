using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Threading.Channels;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Network.Tests.DevP2p;

/// <summary>
/// A chain in memory as a host's chain store would serve it: the execution-apis chain up to a head, or any
/// generated one. The head can be moved within the blocks held (<see cref="HeadNumber"/>).
/// </summary>
internal sealed class MemoryEthChain : IEthChain
{
    private readonly Dictionary<Hash256, Block> _byHash = [];
    private readonly List<Block> _canonical = [];
    private volatile int _head;

    /// <summary>The execution-apis chain, blocks 0..<paramref name="held"/>, head at <paramref name="head"/> (default: the last held).</summary>
    public MemoryEthChain(ulong held, ulong? head = null, ChainSpec? spec = null)
        : this(Enumerable.Range(0, (int)held + 1).Select(n => ExecutionApisChain.At((ulong)n)).ToList(), spec ?? ExecutionApisChain.Spec)
    {
        _head = (int)(head ?? held);
    }

    public MemoryEthChain(IReadOnlyList<Block> blocks, ChainSpec spec)
    {
        Spec = spec;
        foreach (var block in blocks)
        {
            _canonical.Add(block);
            _byHash[block.Hash] = block;
        }
        _head = _canonical.Count - 1;
    }

    public static MemoryEthChain Generated(ulong count)
    {
        var headers = GeneratedChain.Headers(count);
        var bodies = GeneratedChain.Bodies(headers);
        return new MemoryEthChain([.. headers.Select((h, i) => new Block(h, bodies[i]!))], GeneratedChain.SpecFor(headers));
    }

    public ChainSpec Spec { get; }

    public ulong HeadNumber
    {
        get => (ulong)_head;
        set => _head = (int)value;
    }

    public BlockHeader Head => _canonical[_head].Header;

    public BigInteger HeadTotalDifficulty => 1;

    public ulong Earliest => 0;

    public BlockHeader? GetHeader(ulong number) => number <= (ulong)_head ? _canonical[(int)number].Header : null;

    public BlockHeader? GetHeader(Hash256 hash) => _byHash.TryGetValue(hash, out var block) && block.Header.Number <= (ulong)_head ? block.Header : null;

    public BlockBody? GetBody(Hash256 hash) => _byHash.TryGetValue(hash, out var block) && block.Header.Number <= (ulong)_head ? block.Body : null;
}

/// <summary>Records joins and leaves for tests to await.</summary>
internal sealed class RecordingSink : IDevP2pPeerSink
{
    public Channel<ISyncPeer> Joins { get; } = Channel.CreateUnbounded<ISyncPeer>();

    public Channel<(ISyncPeer Peer, string Reason)> Leaves { get; } = Channel.CreateUnbounded<(ISyncPeer, string)>();

    public void Joined(ISyncPeer peer) => Joins.Writer.TryWrite(peer);

    public void Left(ISyncPeer peer, string reason) => Leaves.Writer.TryWrite((peer, reason));
}

/// <summary>One network on 127.0.0.1, port 0, with its key, chain and sink.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    public TestNode(IEthChain chain, TimeProvider time, DevP2pOptions? options = null)
    {
        Chain = chain;
        Options = (options ?? new DevP2pOptions()) with { ListenAddress = IPAddress.Loopback, Port = 0 };
        Network = new DevP2pNetwork(Options, Key, chain, Sink, time, NullLoggerFactory.Instance);
    }

    public NodeKey Key { get; } = NodeKey.Generate();

    public IEthChain Chain { get; }

    public DevP2pOptions Options { get; }

    public RecordingSink Sink { get; } = new();

    public DevP2pNetwork Network { get; }

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        Key.Dispose();
    }
}

/// <summary>
/// A hand-driven eth peer: our RLPx connection dialed to a network, whose Hello and Status the test chooses, and
/// which then reads and writes raw messages. Stands for a misbehaving or silent client.
/// </summary>
internal sealed class RawEthPeer : IAsyncDisposable
{
    public static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly bool _ownsKey;

    private RawEthPeer(RlpxConnection connection, NodeKey key, bool ownsKey)
    {
        Connection = connection;
        Key = key;
        _ownsKey = ownsKey;
    }

    public RlpxConnection Connection { get; }

    public NodeKey Key { get; }

    /// <summary>Dials <paramref name="target"/> with <paramref name="key"/> (a fresh one if null; the caller's to dispose if given) offering eth/<paramref name="ethVersion"/>.</summary>
    public static async Task<RawEthPeer> ConnectAsync(Enode target, int ethVersion = 69, NodeKey? key = null)
    {
        var ownsKey = key is null;
        key ??= NodeKey.Generate();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, target.TcpPort).WaitAsync(Hang);
        var connection = new RlpxConnection(new NetworkStream(socket, ownsSocket: true), key);
        await connection.HandshakeAsInitiatorAsync(target.Id, CancellationToken.None).WaitAsync(Hang);
        await connection.ExchangeHelloAsync(
            new Hello { ClientId = "raw", Capabilities = [new Capability("eth", (uint)ethVersion)], NodeId = key.Id }, CancellationToken.None).WaitAsync(Hang);
        return new RawEthPeer(connection, key, ownsKey);
    }

    /// <summary>Reads the network's Status and sends <paramref name="ours"/>.</summary>
    public async Task<StatusMessage> ExchangeStatusAsync(StatusMessage ours)
    {
        await SendAsync(ours);
        var theirs = await ReadEthAsync();
        return Assert.IsAssignableFrom<StatusMessage>(theirs);
    }

    public Task SendAsync(EthMessage message) =>
        Connection.WriteMessageAsync(P2pMessageCodes.BaseProtocolLength + message.Code, message.Encode(), CancellationToken.None).AsTask().WaitAsync(Hang);

    /// <summary>The next eth message, answering Pings on the way; a Disconnect throws <see cref="RlpxDisconnectedException"/>.</summary>
    public async Task<EthMessage> ReadEthAsync(int version = 69)
    {
        while (true)
        {
            var message = await Connection.ReadMessageAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
            switch (message.Code)
            {
                case P2pMessageCodes.Ping:
                    await Connection.SendPongAsync(CancellationToken.None).AsTask().WaitAsync(Hang);
                    continue;
                case P2pMessageCodes.Pong:
                    continue;
                case P2pMessageCodes.Disconnect:
                    throw new RlpxDisconnectedException(P2pMessages.DecodeDisconnect(message.Payload.Span));
            }
            return EthMessages.Decode(version, (byte)(message.Code - P2pMessageCodes.BaseProtocolLength), message.Payload.Span);
        }
    }

    /// <summary>Reads until the network disconnects; returns the reason it gave (null if it just closed).</summary>
    public async Task<DisconnectReason?> ReadUntilDisconnectAsync(int version = 69)
    {
        try
        {
            while (true)
            {
                await ReadEthAsync(version);
            }
        }
        catch (RlpxDisconnectedException e)
        {
            return e.Reason;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        if (_ownsKey)
        {
            Key.Dispose();
        }
    }
}
