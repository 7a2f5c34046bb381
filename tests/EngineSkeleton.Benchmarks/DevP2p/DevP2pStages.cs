using System.Buffers;
using System.Diagnostics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Testing.Chains;
using Snappier;
using static EngineSkeleton.Benchmarks.Skeleton.SkeletonOnly;

namespace EngineSkeleton.Benchmarks.DevP2p;

/// <summary>
/// <c>devp2p --stages</c>: where a header's CPU and allocation go on each side of a devp2p skeleton sync, one stage
/// at a time on one thread, with no sockets and no sync: the serving node (look the headers up, encode the BlockHeaders
/// answer, compress, encrypt and MAC it into a frame) and the syncing node (check the MACs, decrypt, decompress, decode
/// the answer, hash the headers). Each stage runs over the same 512-header reverse requests as the sync makes, down a
/// generated chain; an in-process peer's work is the first stage plus the last (it hands over the headers it builds,
/// which the sync then hashes). Both connection ends are <see cref="RlpxConnection"/>s over memory with matching
/// secrets and Snappy on, so the frame bytes are those of a real session. Options: <c>--headers N</c> (200,000),
/// <c>--seed S</c>.
/// </summary>
internal static class DevP2pStages
{
    private const int Batch = 512;

    public static async Task<int> RunAsync(string[] args)
    {
        var headers = (ulong)CommandArgs.Long(args, "--headers", 200_000);
        var seed = (ulong)CommandArgs.Long(args, "--seed", 1);
        var chain = GeneratedChain.Headers(headers + 1, seed);
        var served = new GeneratedEthChain(chain, headers);
        Console.WriteLine(Inv($"devp2p stages: {headers:N0} headers in {Batch}-header answers, one thread; server GC {System.Runtime.GCSettings.IsServerGC}"));

        // Unreported warm-up pass, so every stage runs tier-1 code.
        await PassAsync(served, Math.Min(headers, 50_000), report: false);
        await PassAsync(served, headers, report: true);
        return 0;
    }

    private static async Task PassAsync(GeneratedEthChain served, ulong headers, bool report)
    {
        var (server, client, wire) = Connections();
        await using var serverSide = server;
        await using var clientSide = client;
        var stages = new Stage[] { new("server: look up headers (and encode each)"), new("server: encode BlockHeaders (pooled)"), new("server: snappy + AES + MAC into a frame"), new("client: MAC + AES + snappy out of the frame"), new("client: decode BlockHeaders"), new("client: hash headers (HashAll)") };
        var count = 0UL;
        var wireBytes = 0L;
        var requestId = 1UL;
        for (var origin = headers; origin >= 1 && count < headers; origin -= Math.Min(origin, Batch))
        {
            var amount = (int)Math.Min(Batch, origin);
            var query = GetBlockHeadersMessage.Request(requestId++, HeaderOrigin.ByNumber(origin), amount, 0, reverse: true);
            var answer = stages[0].Run(() => EthServing.HeadersMessage(served, query));
            var length = stages[1].Run(() => answer.EncodeRented(out var rented) is var n ? (rented, n) : default);
            wire.SetLength(0);
            await stages[2].RunAsync(() => server.WriteMessageAsync(P2pMessageCodes.BaseProtocolLength + EthMessageCode.BlockHeaders, length.rented.AsMemory(0, length.n), CancellationToken.None));
            ArrayPool<byte>.Shared.Return(length.rented);
            wireBytes += wire.Length;
            wire.Position = 0;
            var pooled = await stages[3].RunAsync(() => client.ReadPooledMessageAsync(CancellationToken.None));
            var decoded = (BlockHeadersMessage)stages[4].Run(() => EthMessages.Decode(EthProtocol.Eth69, (byte)(pooled.Message.Code - P2pMessageCodes.BaseProtocolLength), pooled.Message.Payload.Span));
            pooled.Dispose();
            stages[5].Run(() =>
            {
                BlockHeader.HashAll(decoded.Headers);
                return 0;
            });
            count += (ulong)decoded.Headers.Count;
        }
        if (!report)
        {
            return;
        }
        Split(served, headers);
        Console.WriteLine(Inv($"{count:N0} headers, {wireBytes / (double)count:F0} wire bytes a header"));
        double serving = 0, syncing = 0;
        foreach (var stage in stages)
        {
            var us = stage.Elapsed.TotalMicroseconds / count;
            Console.WriteLine(Inv($"  {stage.Name,-45} {us,6:F2} µs/header  {stage.Allocated / (double)count,7:F0} B/header allocated"));
            if (stage.Name.StartsWith("server", StringComparison.Ordinal))
            {
                serving += us;
            }
            else
            {
                syncing += us;
            }
        }
        Console.WriteLine(Inv($"  serving side {serving:F2} µs/header, syncing side {syncing:F2} µs/header; an in-process peer's share: look-up + hash = {(stages[0].Elapsed + stages[5].Elapsed).TotalMicroseconds / count:F2} µs/header"));
    }

    /// <summary>
    /// The frame layer's parts apart, over one 512-header answer sent again and again: Snappy each way, then the
    /// cipher and MACs of sealing and opening (a codec pair with matching secrets).
    /// </summary>
    private static void Split(GeneratedEthChain served, ulong headers)
    {
        var answer = EthServing.HeadersMessage(served, GetBlockHeadersMessage.Request(1, HeaderOrigin.ByNumber(headers), Batch, 0, reverse: true));
        var payload = answer.Encode();
        var compressed = new byte[Snappy.GetMaxCompressedLength(payload.Length)];
        var output = new byte[payload.Length];
        var aes = new byte[32];
        var mac = new byte[32];
        using var sealer = new FrameCodec(aes, mac, new KeccakMacState(), new KeccakMacState());
        using var opener = new FrameCodec(aes, mac, new KeccakMacState(), new KeccakMacState());
        var compressedLength = Snappy.Compress(payload, compressed);
        var frame = new byte[FrameCodec.SealedSize(compressedLength)];
        const int rounds = 400;
        var stages = new Stage[] { new("  snappy compress"), new("  seal: AES-CTR + 2 MACs"), new("  open: 2 MACs + AES-CTR"), new("  snappy decompress") };
        for (var i = 0; i < rounds; i++)
        {
            stages[0].Run(() => Snappy.Compress(payload, compressed));
            compressed.AsSpan(0, compressedLength).CopyTo(frame.AsSpan(FrameCodec.SealedHeaderSize));
            stages[1].Run(() => sealer.Seal(frame, compressedLength));
            stages[2].Run(() =>
            {
                var size = opener.OpenHeader(frame);
                opener.OpenFrame(frame.AsSpan(FrameCodec.SealedHeaderSize, FrameCodec.PaddedSize(size) + FrameMac.Size));
                return size;
            });
            stages[3].Run(() => Snappy.Decompress(compressed.AsSpan(0, compressedLength), output));
        }
        var count = (double)rounds * Batch;
        Console.WriteLine(Inv($"  the frame layer apart ({payload.Length:N0} B answer, {compressedLength:N0} B compressed):"));
        foreach (var stage in stages)
        {
            Console.WriteLine(Inv($"  {stage.Name,-45} {stage.Elapsed.TotalMicroseconds / count,6:F2} µs/header  {stage.Allocated / count,7:F0} B/header allocated"));
        }
    }

    /// <summary>A writing and a reading connection over one memory stream, secrets matched, Snappy on.</summary>
    private static (RlpxConnection Server, RlpxConnection Client, MemoryStream Wire) Connections()
    {
        var aes = new byte[32];
        var mac = new byte[32];
        Random.Shared.NextBytes(aes);
        Random.Shared.NextBytes(mac);
        var wire = new MemoryStream();
        var keyA = NodeKey.Generate();
        var keyB = NodeKey.Generate();
        var server = new RlpxConnection(new NonClosing(wire), keyA, new HandshakeSecrets(aes, mac, new KeccakMacState(), new KeccakMacState(), keyB.Id), new RlpxOptions { MaxMessageSize = EthLimits.MaxMessageSize });
        var client = new RlpxConnection(new NonClosing(wire), keyB, new HandshakeSecrets(aes, mac, new KeccakMacState(), new KeccakMacState(), keyA.Id), new RlpxOptions { MaxMessageSize = EthLimits.MaxMessageSize });
        server.EnableCompression();
        client.EnableCompression();
        return (server, client, wire);
    }

    private sealed class Stage(string name)
    {
        public string Name { get; } = name;

        public TimeSpan Elapsed { get; private set; }

        public long Allocated { get; private set; }

        public T Run<T>(Func<T> work)
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            var result = work();
            Elapsed += Stopwatch.GetElapsedTime(started);
            Allocated += GC.GetTotalAllocatedBytes(precise: true) - allocated;
            return result;
        }

        public async Task RunAsync(Func<ValueTask> work) => await RunAsync(async () =>
        {
            await work();
            return 0;
        });

        public async Task<T> RunAsync<T>(Func<ValueTask<T>> work)
        {
            // Memory streams complete synchronously: the stage stays on this thread.
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            var result = await work();
            Elapsed += Stopwatch.GetElapsedTime(started);
            Allocated += GC.GetTotalAllocatedBytes(precise: true) - allocated;
            return result;
        }
    }

    /// <summary>The wire outlives both connections (each disposes its stream).</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
