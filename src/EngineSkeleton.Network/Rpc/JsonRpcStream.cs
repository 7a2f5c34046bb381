using System.Text.Json;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// Reads the answer to a batch as it arrives, one answer at a time, and hands each to a reader that keeps what it
/// needs: no buffer as long as the whole answer and no document over it. A batch of 32 raw mainnet-like blocks is a
/// 6.4 MB answer; read whole, each one in flight held that much twice over (the bytes and, past 4 MiB, a metadata
/// array as long as them that <see cref="JsonDocument"/> rents from the shared pool), in the large-object heap
/// (docs/benchmarks.md, Sync from a JSON-RPC peer). Here the buffer holds the largest single answer plus what came
/// with it. The answer is judged as <see cref="JsonRpcBatch.Parse(ReadOnlyMemory{byte}, int)"/> judges it whole:
/// anything but one answer per call is the peer's fault.
/// </summary>
internal static class JsonRpcStream
{
    /// <summary>The buffer's first size: five mainnet-like raw blocks (~200 KB of hex each); doubled for a larger answer.</summary>
    internal const int FirstBufferBytes = 1024 * 1024;

    /// <summary>
    /// The answers to a batch of <paramref name="count"/> calls with ids 0..count−1, each passed to
    /// <paramref name="read"/> with its id while its bytes are in the buffer (a result is valid only during the call),
    /// and what it returns kept in the call's place. At most <paramref name="maxBytes"/> are read.
    /// </summary>
    public static async Task<T?[]> ReadAsync<T>(
        Stream stream, int count, long maxBytes, Func<int, JsonRpcAnswer, T?> read, CancellationToken cancellationToken)
    {
        // No buffer holds more than Array.MaxLength bytes, so no larger limit can be kept (long.MaxValue is how an
        // operator says "none"); and maxBytes + 1, the byte that tells an answer over it, must not overflow.
        maxBytes = Math.Min(maxBytes, Array.MaxLength - 1);
        var answers = new Answers<T>(count, read);
        var buffer = JsonRpcBatch.AnswerBuffers.Rent(FirstBufferBytes);
        try
        {
            var (start, end, total, ended) = (0, 0, 0L, false);
            var reading = default(JsonReaderState);
            while (true)
            {
                // Fill the buffer before parsing: an answer cut at its end is parsed again from its start.
                while (end < buffer.Length && !ended)
                {
                    var room = (int)Math.Min(buffer.Length - end, maxBytes - total + 1);
                    var got = await stream.ReadAsync(buffer.AsMemory(end, room), cancellationToken);
                    ended = got == 0;
                    (end, total) = (end + got, total + got);
                    if (total > maxBytes)
                    {
                        throw new PeerException($"answer is over the {maxBytes}-byte limit");
                    }
                }
                start += answers.Consume(buffer.AsMemory(start, end - start), ended, ref reading);
                if (ended)
                {
                    break;
                }
                if (start == 0)
                {
                    // One answer fills the buffer: a larger one, with what is there.
                    var larger = JsonRpcBatch.AnswerBuffers.Rent((int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, end).CopyTo(larger);
                    JsonRpcBatch.AnswerBuffers.Return(buffer);
                    buffer = larger;
                }
                else
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    (start, end) = (0, end - start);
                }
            }
            return answers.Finish();
        }
        finally
        {
            JsonRpcBatch.AnswerBuffers.Return(buffer);
        }
    }

    private enum Place
    {
        /// <summary>Before the first token: the array, or an object refusing the batch.</summary>
        Start,

        /// <summary>Inside the array, between answers.</summary>
        Answers,

        /// <summary>Past the array's end: only whitespace may follow.</summary>
        End,
    }

    /// <summary>Where the reading of one answer stands, and what it has found so far.</summary>
    private sealed class Answers<T>(int count, Func<int, JsonRpcAnswer, T?> read)
    {
        private readonly T?[] _results = new T?[count];
        private readonly bool[] _answered = new bool[count];
        private Place _place;
        private int _seen;

        /// <summary>
        /// Reads what it can of <paramref name="data"/> (all of it when <paramref name="final"/>) and returns how many of
        /// its bytes are done with; the rest starts an answer or token not yet whole.
        /// </summary>
        public int Consume(ReadOnlyMemory<byte> data, bool final, ref JsonReaderState state)
        {
            try
            {
                return ConsumeTokens(data, final, ref state);
            }
            catch (JsonException e)
            {
                throw new PeerException($"garbage JSON in answer: {e.Message}");
            }
        }

        public T?[] Finish()
        {
            if (_place != Place.End)
            {
                throw new PeerException("garbage JSON in answer: it ends before its array does");
            }
            JsonRpcBatch.RequireAll(_seen, _answered.Length);
            return _results;
        }

        private int ConsumeTokens(ReadOnlyMemory<byte> data, bool final, ref JsonReaderState state)
        {
            var reader = new Utf8JsonReader(data.Span, final, state);
            while (true)
            {
                var (before, done) = (reader.CurrentState, (int)reader.BytesConsumed);
                if (!reader.Read())
                {
                    state = before;
                    return done;
                }
                if (_place == Place.End)
                {
                    continue; // the reader itself refuses a second value after the first
                }
                if (_place == Place.Answers && reader.TokenType == JsonTokenType.EndArray)
                {
                    _place = Place.End;
                    continue;
                }
                if (reader.TokenType == JsonTokenType.StartArray && _place == Place.Start)
                {
                    _place = Place.Answers;
                    continue;
                }
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw _place == Place.Start
                        ? new PeerException($"a batch was answered with a JSON {KindOf(reader.TokenType)}, not an array")
                        : new PeerException($"batch answer {_seen} has no numeric id");
                }
                var from = (int)reader.TokenStartIndex;
                if (!reader.TrySkip())
                {
                    state = before;
                    return done;
                }
                Answer(data[from..(int)reader.BytesConsumed]);
            }
        }

        /// <summary>One whole object: an answer in the array, or the single object a refused batch is answered with.</summary>
        private void Answer(ReadOnlyMemory<byte> item)
        {
            if (!System.Text.Unicode.Utf8.IsValid(item.Span))
            {
                throw new PeerException("answer is not valid UTF-8");
            }
            using var document = JsonDocument.Parse(item);
            if (_place == Place.Start)
            {
                throw JsonRpcBatch.NotAnArray(document.RootElement);
            }
            var (id, answer) = JsonRpcBatch.ReadAnswer(document.RootElement, _answered, _seen);
            _results[id] = read(id, answer);
            _seen++;
        }

        private static JsonValueKind KindOf(JsonTokenType token) => token switch
        {
            JsonTokenType.String => JsonValueKind.String,
            JsonTokenType.Number => JsonValueKind.Number,
            JsonTokenType.True => JsonValueKind.True,
            JsonTokenType.False => JsonValueKind.False,
            JsonTokenType.Null => JsonValueKind.Null,
            _ => JsonValueKind.Undefined,
        };
    }
}
