using System.Text.Json;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Sync.Peers;

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
    ];

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
}
