using System.Buffers;
using System.Text.Json;

namespace EngineSkeleton.Server.Rpc;

/// <summary>Bytes of JSON-RPC responses the transport writes itself (errors before dispatch, id restoration).</summary>
internal static class RpcWire
{
    public static ReadOnlySpan<byte> NullId => "null"u8;

    /// <summary>What StreamJsonRpc's SystemTextJsonFormatter writes before the id of every response it serializes.</summary>
    private static ReadOnlySpan<byte> ResponsePrefix => "{\"jsonrpc\":\"2.0\",\"id\":"u8;

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary><c>{"jsonrpc":"2.0","id":RAW,"error":{"code":C,"message":M}}</c>; <paramref name="rawId"/> empty means null.</summary>
    public static byte[] Error(ReadOnlySpan<byte> rawId, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(96 + message.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WritePropertyName("id"u8);
            writer.WriteRawValue(rawId.IsEmpty ? NullId : rawId, skipInputValidation: true);
            writer.WriteStartObject("error"u8);
            writer.WriteNumber("code"u8, code);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Rewrites a response serialized with an internal numeric id so that it carries the caller's id exactly as sent
    /// (string, number of any size, or null). The formatter's prefix is spliced in O(1); if a future StreamJsonRpc wrote
    /// a different layout, the message is re-read property by property instead.
    /// </summary>
    public static byte[] WithId(ReadOnlySpan<byte> serialized, ReadOnlySpan<byte> rawId)
    {
        if (rawId.IsEmpty)
        {
            rawId = NullId;
        }

        if (serialized.StartsWith(ResponsePrefix))
        {
            var i = ResponsePrefix.Length;
            while (i < serialized.Length && (char.IsAsciiDigit((char)serialized[i]) || serialized[i] == (byte)'-'))
            {
                i++;
            }

            if (i > ResponsePrefix.Length && i < serialized.Length && serialized[i] == (byte)',')
            {
                var rest = serialized[i..];
                var result = GC.AllocateUninitializedArray<byte>(ResponsePrefix.Length + rawId.Length + rest.Length);
                ResponsePrefix.CopyTo(result);
                rawId.CopyTo(result.AsSpan(ResponsePrefix.Length));
                rest.CopyTo(result.AsSpan(ResponsePrefix.Length + rawId.Length));
                return result;
            }
        }

        return Rebuild(serialized, rawId);
    }

    private static byte[] Rebuild(ReadOnlySpan<byte> serialized, ReadOnlySpan<byte> rawId)
    {
        var buffer = new ArrayBufferWriter<byte>(serialized.Length + rawId.Length);
        var reader = new Utf8JsonReader(serialized);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WritePropertyName("id"u8);
            writer.WriteRawValue(rawId, skipInputValidation: true);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var skip = reader.ValueTextEquals("id"u8) || reader.ValueTextEquals("jsonrpc"u8);
                var name = reader.ValueSpan;
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (!skip)
                {
                    writer.WritePropertyName(name);
                    writer.WriteRawValue(serialized[start..(int)reader.BytesConsumed], skipInputValidation: true);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
