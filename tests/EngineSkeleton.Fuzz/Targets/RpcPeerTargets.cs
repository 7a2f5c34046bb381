using System.Text.Json;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Net;

namespace EngineSkeleton.Fuzz.Targets;

/// <summary>
/// The JSON-RPC peer's readers (src/EngineSkeleton.Network/Rpc, <c>--sync.rpc</c>): an existing node's answers are
/// untrusted input too. Their one refusal is <see cref="PeerException"/> (the peer's fault, which drops it), or false
/// with a reason from the Try readers.
/// </summary>
internal static class RpcPeerTargets
{
    public static IEnumerable<FuzzTarget> All =>
    [
        new("rpc-peer", "JsonRpcBatch.Parse, then each answer as a raw header, a block object, its transactions and withdrawals", RpcPeer),
        new("rpc-stream", "JsonRpcStream.ReadAsync against JsonRpcBatch.Parse: the answer in pieces, cut by the first buffer's end", RpcStream),
    ];

    /// <summary>The most a read of the answer returns, by bits 2–3 of byte 0: a byte, a few, a page, all of it.</summary>
    private static readonly int[] ReadSizes = [1, 7, 4096, int.MaxValue];

    private static void RpcPeer(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var count = 1 + (input[0] % 4);
        JsonRpcBatch batch;
        try
        {
            batch = JsonRpcBatch.Parse(input[1..].ToArray(), count);
        }
        catch (PeerException)
        {
            return;
        }
        using (batch)
        {
            CoreTargets.Expect(batch.Count == count, "a batch answer with another number of answers than calls");
            for (var i = 0; i < batch.Count; i++)
            {
                var answer = batch[i];
                try
                {
                    if (RpcAnswers.IsMissing(answer, new JsonRpcCall(RpcAnswers.BlockByNumberMethod, "0x1")))
                    {
                        continue;
                    }
                }
                catch (PeerException)
                {
                    continue;
                }
                Try(() => RpcAnswers.RawHeader(answer, (ulong)i));
                Try(() => RpcAnswers.JsonHeader(answer, "block"));
                _ = RpcBlockJson.TryReadNumberAndHash(answer.Result, out _, out _, out _);
                if (answer.Result.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                _ = RpcBodyJson.TryReadWithdrawals(answer.Result, out _, out _);
                if (answer.Result.TryGetProperty("transactions", out var txs) && txs.ValueKind == JsonValueKind.Array)
                {
                    foreach (var tx in txs.EnumerateArray())
                    {
                        _ = RpcBodyJson.TryEncodeTransaction(tx, out _, out _, out _);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The answer read as it streams in must be judged as it is read whole: the same answer to each call, or a
    /// <see cref="PeerException"/> from both. Byte 0 holds the calls (1 + bits 0–1), the read size (bits 2–3) and, in
    /// bit 7, whether the streamed copy starts with the whitespace that puts the end of the first buffer at byte 1's
    /// share of the answer (JSON allows it, so the whole answer's verdict is the same); the answer follows byte 1.
    /// Reads smaller than the buffer do not move where the parser is cut: only the buffer's end does.
    /// </summary>
    private static void RpcStream(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }
        var count = 1 + (input[0] & 3);
        var readSize = ReadSizes[(input[0] >> 2) & 3];
        var body = input[2..].ToArray();
        var padding = (input[0] & 0x80) == 0 ? 0 : JsonRpcStream.FirstBufferBytes - (body.Length * input[1] / 256);

        var whole = ParseWhole(body, count);
        var streamed = ReadStreamed(new ChunkedStream(body, readSize, padding), count);

        CoreTargets.Expect(
            (whole.Answers is null) == (streamed.Answers is null),
            $"one of JsonRpcBatch.Parse and JsonRpcStream.ReadAsync refuses what the other answers: whole {whole}, streamed {streamed}");
        CoreTargets.Expect(
            whole.Answers is null || whole.Answers.AsSpan().SequenceEqual(streamed.Answers),
            $"JsonRpcBatch.Parse and JsonRpcStream.ReadAsync answer differently: whole {whole}, streamed {streamed}");
    }

    private static Judgement ParseWhole(byte[] body, int count)
    {
        try
        {
            using var batch = JsonRpcBatch.Parse(body, count);
            var answers = new string?[batch.Count];
            for (var id = 0; id < batch.Count; id++)
            {
                answers[id] = Text(id, batch[id]);
            }
            return new Judgement(answers, null);
        }
        catch (PeerException e)
        {
            return new Judgement(null, e.Message);
        }
    }

    private static Judgement ReadStreamed(Stream stream, int count)
    {
        try
        {
            // Each result's text is taken inside the call, while its bytes are in the buffer; long.MaxValue: no limit.
            return new Judgement(JsonRpcStream.ReadAsync(stream, count, long.MaxValue, Text, CancellationToken.None).GetAwaiter().GetResult(), null);
        }
        catch (PeerException e)
        {
            return new Judgement(null, e.Message);
        }
    }

    /// <summary>An answer as text that tells every difference apart: the id it came to, then its result's raw JSON or its error.</summary>
    private static string Text(int id, JsonRpcAnswer answer) =>
        answer.Error is { } error ? $"{id}: error {error.Code} {error.Message}" : $"{id}: result {answer.Result.GetRawText()}";

    private static void Try(Action read)
    {
        try
        {
            read();
        }
        catch (PeerException)
        {
        }
    }

    /// <summary>How a parser judged an answer: each call's answer as text, or why it refused the answer.</summary>
    private sealed record Judgement(string?[]? Answers, string? Refusal)
    {
        public override string ToString() => Answers is null ? $"refused ({Refusal})" : $"[{string.Join(", ", Answers)}]";
    }

}
