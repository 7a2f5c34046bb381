using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace EngineSkeleton.Server.Rpc;

/// <summary>What the transport does with one request object of a body.</summary>
internal enum RpcItemKind
{
    /// <summary>A well-formed call or notification of a registered method: hand it to StreamJsonRpc.</summary>
    Dispatch,
    /// <summary>Answered by the transport itself with <see cref="RpcItem.Answer"/>.</summary>
    Answer,
    /// <summary>A notification the transport refuses: geth answers nothing for it.</summary>
    Silent,
}

/// <summary>One request object of an HTTP body, checked before dispatch.</summary>
/// <param name="Kind">What the transport does with it.</param>
/// <param name="Message">The object's bytes as StreamJsonRpc should read them.</param>
/// <param name="Id">The caller's id exactly as sent; empty for a notification (id absent).</param>
/// <param name="IsNotification">No id: run it, answer nothing.</param>
/// <param name="Method">The method name, when there is one.</param>
/// <param name="Answer">The transport's own answer for <see cref="RpcItemKind.Answer"/>.</param>
internal readonly record struct RpcItem(RpcItemKind Kind, ReadOnlyMemory<byte> Message, ReadOnlyMemory<byte> Id, bool IsNotification, string? Method, byte[]? Answer)
{
    public static RpcItem Reply(byte[] answer) => new(RpcItemKind.Answer, default, default, false, null, answer);
}

/// <summary>
/// Splits an HTTP body into request objects and applies geth's rules (rpc/json.go, rpc/handler.go handleCallMsg):
/// a call has <c>"jsonrpc":"2.0"</c>, a string method and an id that is a string, number or null; a notification has no
/// id. Everything else is -32600; an unknown method -32601 and non-array params -32602, both unanswered for
/// notifications. Runs on the request's thread, so the single StreamJsonRpc reader only sees well-formed requests.
/// </summary>
internal static class RpcRequestParser
{
    /// <summary>geth rpc/json.go <c>maxMethodNameLength</c>.</summary>
    public const int MaxMethodNameLength = 2048;

    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Returns false when the body is not one JSON value (then the answer is a single -32700 with id null).</summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, RpcMethodTable methods, out RpcItem[] items, out bool isBatch) =>
        TryParse(body, methods, int.MaxValue, out items, out isBatch, out _);

    /// <summary>
    /// As <see cref="TryParse(ReadOnlyMemory{byte}, RpcMethodTable, out RpcItem[], out bool)"/>, but a batch longer than
    /// <paramref name="maxBatchItems"/> is only counted (<paramref name="batchLength"/>) past its first
    /// <paramref name="maxBatchItems"/> + 1 objects: those are all <paramref name="items"/> holds, enough to find the
    /// first call's id for geth's "batch too large" answer. The whole body is still read, so a batch that is also
    /// broken JSON is -32700 as before.
    /// </summary>
    /// <remarks>
    /// Found by the hostile benchmark: a 4 MB body <c>[1,1,...]</c> of 2,000,000 items made 2,000,000 error answers
    /// before the batch cap was looked at (~400 MB for one request, GBs at the 128 MiB body cap).
    /// </remarks>
    public static bool TryParse(ReadOnlyMemory<byte> body, RpcMethodTable methods, int maxBatchItems, out RpcItem[] items, out bool isBatch, out int batchLength)
    {
        items = [];
        isBatch = false;
        batchLength = 0;
        // JSON text is UTF-8 (RFC 8259 §8.1); Utf8JsonReader only checks string contents when they are read.
        if (!Utf8.IsValid(body.Span))
        {
            return false;
        }

        var keep = maxBatchItems == int.MaxValue ? int.MaxValue : maxBatchItems + 1;
        var elements = new List<(int Start, int End)>();
        try
        {
            var reader = new Utf8JsonReader(body.Span, ReaderOptions);
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.StartArray)
            {
                isBatch = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    batchLength++;
                    if (elements.Count < keep)
                    {
                        elements.Add((start, (int)reader.BytesConsumed));
                    }
                }
            }
            else
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                elements.Add((start, (int)reader.BytesConsumed));
                batchLength = 1;
            }

            // Anything but whitespace after the value throws here.
            if (reader.Read())
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false;
        }

        items = new RpcItem[elements.Count];
        for (var i = 0; i < items.Length; i++)
        {
            var (start, end) = elements[i];
            try
            {
                items[i] = Inspect(body[start..end], methods);
            }
            catch (InvalidOperationException)
            {
                // A string that cannot become .NET text, e.g. a lone surrogate escape "\ud800" as the method.
                items[i] = RpcItem.Reply(RpcWire.Error(default, RpcErrorCodes.InvalidRequest, "invalid request"));
            }
        }

        return true;
    }

    /// <summary>Classifies one request object that is known to be well-formed JSON.</summary>
    public static RpcItem Inspect(ReadOnlyMemory<byte> element, RpcMethodTable methods)
    {
        var span = element.Span;
        var reader = new Utf8JsonReader(span, ReaderOptions);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return RpcItem.Reply(RpcWire.Error(default, RpcErrorCodes.InvalidRequest, "invalid request"));
        }

        var versionOk = false;
        var hasId = false;
        var idValid = true;
        var idNeedsRewrite = false;
        ReadOnlyMemory<byte> id = default;
        string? method = null;
        var methodIsString = false;
        var paramsKind = JsonTokenType.None;
        var paramsCount = 0;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("jsonrpc"u8))
            {
                reader.Read();
                versionOk = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("2.0"u8);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                hasId = true;
                var start = (int)reader.TokenStartIndex;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                    case JsonTokenType.Null:
                        idValid = true;
                        idNeedsRewrite = false;
                        id = element[start..(int)reader.BytesConsumed];
                        break;
                    case JsonTokenType.Number:
                        idValid = true;
                        // StreamJsonRpc's RequestId holds a long; 1.5 or 2^64 must still come back as sent.
                        idNeedsRewrite = !reader.TryGetInt64(out _);
                        id = element[start..(int)reader.BytesConsumed];
                        break;
                    default:
                        // Objects and arrays are never ids (geth hasValidID); JSON-RPC 2.0 §4 rules out booleans too.
                        idValid = false;
                        id = default;
                        reader.Skip();
                        break;
                }
            }
            else if (reader.ValueTextEquals("method"u8))
            {
                reader.Read();
                methodIsString = reader.TokenType == JsonTokenType.String;
                method = methodIsString ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("params"u8))
            {
                reader.Read();
                paramsKind = reader.TokenType;
                paramsCount = 0;
                if (paramsKind == JsonTokenType.StartArray)
                {
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        paramsCount++;
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (!idValid)
        {
            return RpcItem.Reply(RpcWire.Error(default, RpcErrorCodes.InvalidRequest, "invalid request"));
        }

        var isNotification = !hasId;
        if (!versionOk || !methodIsString || string.IsNullOrEmpty(method))
        {
            // geth answers these even without an id (handleCallMsg's default case), with id null.
            return RpcItem.Reply(RpcWire.Error(id.Span, RpcErrorCodes.InvalidRequest, "invalid request"));
        }

        if (method.Length > MaxMethodNameLength)
        {
            return isNotification
                ? new RpcItem(RpcItemKind.Silent, default, default, true, null, null)
                : RpcItem.Reply(RpcWire.Error(id.Span, RpcErrorCodes.InvalidRequest, $"method name too long: {method.Length} > {MaxMethodNameLength}"));
        }

        if (!methods.TryGetArity(method, out var arity))
        {
            return isNotification
                ? new RpcItem(RpcItemKind.Silent, default, default, true, method, null)
                : RpcItem.Reply(RpcWire.Error(id.Span, RpcErrorCodes.MethodNotFound, $"the method {method} does not exist/is not available"));
        }

        if (paramsKind is not (JsonTokenType.None or JsonTokenType.Null or JsonTokenType.StartArray))
        {
            // Positional parameters only, as geth (rpc/json.go parsePositionalArguments) and the Engine API.
            return isNotification
                ? new RpcItem(RpcItemKind.Silent, default, default, true, method, null)
                : RpcItem.Reply(RpcWire.Error(id.Span, RpcErrorCodes.InvalidParams, "non-array args"));
        }

        // Argument counts checked here with geth's messages (rpc/json.go parseArgumentArray); StreamJsonRpc would say
        // -32602 too, but with the target's CLR signature in the message.
        if (paramsCount > arity.Max || paramsCount < arity.Required)
        {
            return isNotification
                ? new RpcItem(RpcItemKind.Silent, default, default, true, method, null)
                : RpcItem.Reply(RpcWire.Error(
                    id.Span,
                    RpcErrorCodes.InvalidParams,
                    paramsCount > arity.Max ? $"too many arguments, want at most {arity.Max}" : $"missing value for required argument {paramsCount}"));
        }

        var message = idNeedsRewrite || paramsKind == JsonTokenType.Null ? WithoutIdAndNullParams(span) : element;
        return new RpcItem(RpcItemKind.Dispatch, message, id, isNotification, method, null);
    }

    /// <summary>
    /// A copy without <c>id</c> (the transport assigns its own) and without <c>"params":null</c>, which
    /// StreamJsonRpc's formatter cannot read. Only for the rare request that needs it.
    /// </summary>
    private static byte[] WithoutIdAndNullParams(ReadOnlySpan<byte> element)
    {
        var buffer = new ArrayBufferWriter<byte>(element.Length);
        var reader = new Utf8JsonReader(element, ReaderOptions);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var drop = reader.ValueTextEquals("id"u8);
                var isParams = reader.ValueTextEquals("params"u8);
                var name = reader.GetString()!;
                reader.Read();
                drop |= isParams && reader.TokenType == JsonTokenType.Null;
                var valueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                if (!drop)
                {
                    writer.WritePropertyName(name);
                    writer.WriteRawValue(element[valueStart..(int)reader.BytesConsumed], skipInputValidation: true);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
