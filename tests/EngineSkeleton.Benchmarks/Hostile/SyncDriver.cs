using System.Text;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Testing.Engine;

namespace EngineSkeleton.Benchmarks.Hostile;

/// <summary>What a consensus client sends to start a sync: newPayload of the head block, then forkchoiceUpdated to it.</summary>
internal static class SyncDriver
{
    /// <summary>The newPayload version that serves <paramref name="block"/>'s fork (V4 for Prague/Osaka), as a request.</summary>
    public static byte[] NewPayload(Block block)
    {
        var (method, args) = PayloadWriter.NewPayload(block);
        return PayloadWriter.Request(method, args);
    }

    public static byte[] ForkchoiceUpdated(Hash256 head, string version = "V3") =>
        PayloadWriter.Request("engine_forkchoiceUpdated" + version, [PayloadWriter.Forkchoice(head, head, head), null]);

    /// <summary>The payload status of a newPayload or forkchoiceUpdated answer, or the error, for the report.</summary>
    public static string Status(byte[] answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                return "error " + error.GetRawText();
            }
            var result = root.GetProperty("result");
            var status = result.TryGetProperty("payloadStatus", out var nested) ? nested : result;
            return status.GetProperty("status").GetString() ?? "?";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "unreadable: " + Encoding.UTF8.GetString(answer.AsSpan(0, Math.Min(answer.Length, 200)));
        }
    }
}
