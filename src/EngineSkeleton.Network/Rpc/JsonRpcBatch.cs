using System.Text.Json;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// One call of a batch. Parameters are JSON scalars: a string (a hex quantity or hash), then optionally a boolean
/// (full transactions or not) or another string (an index); none when <c>Param</c> is null (eth_chainId).
/// </summary>
internal sealed record JsonRpcCall(string Method, string? Param, object? Second = null)
{
    public void Write(Utf8JsonWriter writer, int id)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, "2.0"u8);
        writer.WriteNumber("id"u8, id);
        writer.WriteString("method"u8, Method);
        writer.WriteStartArray("params"u8);
        if (Param is not null)
        {
            writer.WriteStringValue(Param);
        }
        switch (Second)
        {
            case null:
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            default:
                throw new InvalidOperationException($"a JSON-RPC parameter here is a string or a boolean, not {Second.GetType().Name}");
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override string ToString() => Second switch
    {
        null => $"{Method}({Param})",
        bool flag => $"{Method}({Param}, {(flag ? "true" : "false")})",
        _ => $"{Method}({Param}, {Second})",
    };
}

/// <summary>A JSON-RPC error object as a node sent it.</summary>
internal sealed record JsonRpcError(int Code, string Message)
{
    /// <summary>JSON-RPC 2.0 §5.1: the method does not exist or is not available.</summary>
    public const int MethodNotFound = -32601;

    /// <summary>JSON-RPC 2.0 §5.1: invalid method parameters (ethereumjs: also "block greater than current height").</summary>
    public const int InvalidParams = -32602;

    public override string ToString() => $"{Code} {Message}";
}

/// <summary>One call's answer: a result (possibly JSON null) or an error. The result lives as long as its batch.</summary>
internal readonly record struct JsonRpcAnswer(JsonElement Result, JsonRpcError? Error)
{
    /// <summary>A result of JSON null: what nodes answer for a block they do not have.</summary>
    public bool IsNull => Error is null && Result.ValueKind == JsonValueKind.Null;
}

/// <summary>
/// The answers to one batch, in the order of its calls whatever order the node sent them in (JSON-RPC 2.0 §6 lets
/// it choose). Owns the parsed document: dispose it when the answers have been read.
/// </summary>
internal sealed class JsonRpcBatch : IDisposable
{
    /// <summary>
    /// Where answers' bodies are read into (<see cref="JsonRpcClient"/>) and go back when their batch is disposed: a
    /// pool of its own, holding at most 8 buffers of a size, for the shared pool keeps one per size in every thread
    /// that returned one, and with buffers of megabytes that added up to hundreds of them (docs/benchmarks.md, Sync
    /// from a JSON-RPC peer). Answers over 32 MiB are allocated and dropped.
    /// </summary>
    internal static readonly System.Buffers.ArrayPool<byte> AnswerBuffers = System.Buffers.ArrayPool<byte>.Create(32 * 1024 * 1024, 8);

    private readonly JsonDocument _document;
    private readonly JsonRpcAnswer[] _answers;
    private byte[]? _rented;

    private JsonRpcBatch(JsonDocument document, JsonRpcAnswer[] answers, byte[]? rented)
    {
        _document = document;
        _answers = answers;
        _rented = rented;
    }

    public int Count => _answers.Length;

    public JsonRpcAnswer this[int index] => _answers[index];

    /// <summary>Serializes calls as a batch with ids 0..n−1.</summary>
    public static byte[] Write(IReadOnlyList<JsonRpcCall> calls)
    {
        using var buffer = new MemoryStream(64 + (calls.Count * 96));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < calls.Count; i++)
            {
                calls[i].Write(writer, i);
            }
            writer.WriteEndArray();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Parses the answer to a batch of <paramref name="count"/> calls with ids 0..count−1. Anything but one answer
    /// per call — garbage, a single object, a missing, unknown or repeated id — is the peer's fault.
    /// </summary>
    public static JsonRpcBatch Parse(ReadOnlyMemory<byte> body, int count) => Parse(body, count, rented: null);

    /// <summary>
    /// As <see cref="Parse(ReadOnlyMemory{byte}, int)"/>, for a body read into <paramref name="rented"/> (from
    /// <see cref="AnswerBuffers"/>): the batch owns it from here, and returns it when disposed, or
    /// at once when the body is refused. The answers' elements point into it, so it outlives them.
    /// </summary>
    public static JsonRpcBatch Parse(ReadOnlyMemory<byte> body, int count, byte[]? rented)
    {
        try
        {
            return ParseOwned(body, count, rented);
        }
        catch
        {
            if (rented is not null)
            {
                AnswerBuffers.Return(rented);
            }
            throw;
        }
    }

    private static JsonRpcBatch ParseOwned(ReadOnlyMemory<byte> body, int count, byte[]? rented)
    {
        // JsonDocument checks the structure but not the bytes inside strings; a string read later would throw.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            throw new PeerException("answer is not valid UTF-8");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new PeerException($"garbage JSON in answer: {e.Message}");
        }
        try
        {
            return new JsonRpcBatch(document, ReadAnswers(document.RootElement, count), rented);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _document.Dispose();
        if (Interlocked.Exchange(ref _rented, null) is { } rented)
        {
            AnswerBuffers.Return(rented);
        }
    }

    private static JsonRpcAnswer[] ReadAnswers(JsonElement root, int count)
    {
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw NotAnArray(root);
        }
        var answers = new JsonRpcAnswer[count];
        var answered = new bool[count];
        var seen = 0;
        foreach (var item in root.EnumerateArray())
        {
            var (id, answer) = ReadAnswer(item, answered, seen);
            answers[id] = answer;
            seen++;
        }
        RequireAll(seen, count);
        return answers;
    }

    /// <summary>
    /// The <paramref name="seen"/>th answer of a batch whose calls <paramref name="answered"/> marks (ids 0..n−1):
    /// its id, marked answered, and its result or error. An item without a known, unrepeated id or with neither is
    /// the peer's fault.
    /// </summary>
    internal static (int Id, JsonRpcAnswer Answer) ReadAnswer(JsonElement item, bool[] answered, int seen)
    {
        if (item.ValueKind != JsonValueKind.Object
            || !item.TryGetProperty("id"u8, out var idElement)
            || idElement.ValueKind != JsonValueKind.Number
            || !idElement.TryGetInt32(out var id))
        {
            throw new PeerException($"batch answer {seen} has no numeric id");
        }
        if (id < 0 || id >= answered.Length)
        {
            throw new PeerException($"batch answer with unknown id {id} (asked {answered.Length} calls)");
        }
        if (answered[id])
        {
            throw new PeerException($"batch answer id {id} repeated");
        }
        if (!TryReadError(item, out var error))
        {
            throw new PeerException($"batch answer id {id} has a malformed error object");
        }
        JsonRpcAnswer answer;
        if (error is not null)
        {
            answer = new JsonRpcAnswer(default, error);
        }
        else if (item.TryGetProperty("result"u8, out var result))
        {
            answer = new JsonRpcAnswer(result, null);
        }
        else
        {
            throw new PeerException($"batch answer id {id} has neither result nor error");
        }
        answered[id] = true;
        return (id, answer);
    }

    /// <summary>Throws unless every one of <paramref name="count"/> calls was answered.</summary>
    internal static void RequireAll(int seen, int count)
    {
        if (seen != count)
        {
            throw new PeerException($"truncated batch: {seen} of {count} calls answered");
        }
    }

    /// <summary>What a batch's answer that is a single object says: the node refused the batch as a whole, or it is not an array.</summary>
    internal static PeerException NotAnArray(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && TryReadError(root, out var refused) && refused is not null
            ? new PeerException($"batch refused: {refused}")
            : new PeerException($"a batch was answered with a JSON {root.ValueKind}, not an array");

    /// <summary>False if an error member is there but malformed; else error is the error or null.</summary>
    private static bool TryReadError(JsonElement item, out JsonRpcError? error)
    {
        error = null;
        if (!item.TryGetProperty("error"u8, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("code"u8, out var code)
            || code.ValueKind != JsonValueKind.Number
            || !code.TryGetInt32(out var value))
        {
            return false;
        }
        var message = element.TryGetProperty("message"u8, out var text) && text.ValueKind == JsonValueKind.String
            ? text.GetString() ?? string.Empty
            : string.Empty;
        error = new JsonRpcError(value, message.Length <= 200 ? message : message[..200] + "...");
        return true;
    }
}
