using System.Text;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Net;

namespace EngineSkeleton.Network.Tests.Rpc;

/// <summary>
/// <see cref="JsonRpcStream"/> against <see cref="JsonRpcBatch.Parse(ReadOnlyMemory{byte}, int)"/>: an answer read as
/// it streams in is judged exactly as it is read whole, however the reads and the buffer's end cut it.
/// </summary>
public sealed class JsonRpcStreamTests
{
    /// <summary>A guard against a hung test, never a timing assertion: every await is bounded by it.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    /// <summary>Above every body here: the differential cases are about the JSON; the limit has tests of its own.</summary>
    private const long NoLimit = 64L * 1024 * 1024;

    /// <summary>Refused by both, in words that may differ: the whole body's UTF-8 is checked before its first answer, say.</summary>
    private const string AnyWording = "";

    /// <summary>The body in one read.</summary>
    private const int Whole = int.MaxValue;

    private const int Buffer = JsonRpcStream.FirstBufferBytes;

    /// <summary>The most a read returns: a byte, a few, a page, everything at once.</summary>
    private static readonly int[] ReadSizes = [1, 7, 4096, Whole];

    /// <summary>
    /// What both parsers are fed and must say of it: a refusal phrase both messages contain, or null when both must
    /// answer every call (with the same answers: that is the differential).
    /// </summary>
    private sealed record Case(int Count, byte[] Body, string? Refusal);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Honest answers.
        ["one answer, a raw block's hex"] = Answered(1, """[{"jsonrpc":"2.0","id":0,"result":"0xf90211a0"}]"""),
        ["answers in the order of their calls, results of each JSON kind"] = Answered(4,
            """[{"jsonrpc":"2.0","id":0,"result":{"number":"0x1","transactions":[]}},{"jsonrpc":"2.0","id":1,"result":"0x02"},{"jsonrpc":"2.0","id":2,"result":-12.5e3},{"jsonrpc":"2.0","id":3,"result":[true,false]}]"""),
        ["answers out of order go to their calls (JSON-RPC 2.0 §6)"] = Answered(3,
            """[{"jsonrpc":"2.0","id":2,"result":"0x02"},{"jsonrpc":"2.0","id":0,"result":"0x00"},{"jsonrpc":"2.0","id":1,"result":"0x01"}]"""),
        ["a null result is an answer: a block the node lacks"] = Answered(2,
            """[{"jsonrpc":"2.0","id":0,"result":null},{"jsonrpc":"2.0","id":1,"result":"0x01"}]"""),
        ["an error answer keeps its code and message"] = Answered(2,
            """[{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"the method debug_getRawBlock does not exist"}},{"jsonrpc":"2.0","id":0,"error":{"code":-32602,"message":"specified block greater than current height"}}]"""),
        ["an error without a message has an empty one"] = Answered(1, """[{"jsonrpc":"2.0","id":0,"error":{"code":-32000}}]"""),
        ["a message over 200 characters is cut alike"] = Answered(1,
            $$$"""[{"jsonrpc":"2.0","id":0,"error":{"code":-32000,"message":"{{{new string('m', 300)}}}"}}]"""),
        ["an error of null beside a result is a result"] = Answered(1, """[{"jsonrpc":"2.0","id":0,"error":null,"result":"0x01"}]"""),
        ["members in any order, unknown ones ignored"] = Answered(1, """[{"result":"0x01","extra":[1,{"id":9}],"id":0}]"""),
        ["whitespace of every kind between every token"] = Answered(2,
            " \r\n\t[ \n{ \"id\" :\t1 , \"result\" : [ 1 , { } ] } ,\r\n { \"id\" : 0 , \"result\" : null }\n ] \r\n\t "),
        ["escapes in strings and in member names"] = Answered(2,
            """[{"jsonrpc":"2.0","\u0069d":0,"result":"a\"b\\c\/\u00e9\ud83d\ude00\n\t"},{"id":1,"re\u0073ult":"\u0000"}]"""),
        ["UTF-8 beyond ASCII in a result"] = Answered(1, """[{"id":0,"result":"é漢字😀"}]"""),
        ["a lone surrogate escape is valid JSON text: both keep it raw"] = Answered(1, """[{"id":0,"result":"\ud800"}]"""),
        ["a result nested to the depth limit, which counts the batch's array"] = Answered(1,
            "[{\"id\":0,\"result\":" + new string('[', 62) + new string(']', 62) + "}]"),
        ["an answer larger than the first buffer grows it"] = Answered(2,
            $$"""[{"jsonrpc":"2.0","id":1,"result":"{{Hex(Buffer + 1000)}}"},{"jsonrpc":"2.0","id":0,"result":null}]"""),
        ["an answer over twice the first buffer grows it twice"] = Answered(1,
            $$"""[{"jsonrpc":"2.0","id":0,"result":"{{Hex((5 * Buffer / 2) + 3)}}"}]"""),
        ["answers that fill the buffer several times, cut by its end at other places each time"] = Answered(8,
            "[" + string.Join(",", Enumerable.Range(0, 8).Select(i => $$"""{"jsonrpc":"2.0","id":{{7 - i}},"result":"{{Hex(300_001 + (i * 777))}}"}""")) + "]"),
        ["leading whitespace longer than the first buffer"] = Answered(1,
            new string(' ', Buffer + 10) + """[{"id":0,"result":"0x01"}]"""),
        ["trailing whitespace longer than the first buffer"] = Answered(1,
            """[{"id":0,"result":"0x01"}]""" + new string('\n', Buffer + 10)),

        // Garbage and bodies that are not whole.
        ["garbage"] = Refused(1, "not JSON at all", "garbage JSON"),
        ["an empty body"] = Refused(1, "", "garbage JSON"),
        ["a body of whitespace only"] = Refused(1, " \r\n\t ", "garbage JSON"),
        ["a body cut mid-string"] = Refused(1, """[{"jsonrpc":"2.0","id":0,"result":"0xf902""", "garbage JSON"),
        ["a body cut between answers"] = Refused(2, """[{"id":0,"result":"0x00"},""", "garbage JSON"),
        ["a body cut before the array's end"] = Refused(1, """[{"id":0,"result":"0x00"}""", "garbage JSON"),
        ["a body cut inside an answer larger than the first buffer"] = Refused(1,
            $$"""[{"id":0,"result":"{{Hex(Buffer + 1000)}}""", "garbage JSON"),
        ["garbage after the array"] = Refused(1, """[{"id":0,"result":"0x00"}]x""", "garbage JSON"),
        ["a second array after the first"] = Refused(1, """[{"id":0,"result":"0x00"}][]""", "garbage JSON"),
        ["garbage after the array past the first buffer"] = Refused(1,
            $$"""[{"id":0,"result":"{{Hex(Buffer)}}"}] , """, "garbage JSON"),
        ["a comma after the last answer"] = Refused(1, """[{"id":0,"result":"0x00"},]""", "garbage JSON"),
        ["no comma between answers"] = Refused(2, """[{"id":0,"result":"0x00"}{"id":1,"result":"0x01"}]""", "garbage JSON"),
        ["a comment"] = Refused(1, """[/* answers */{"id":0,"result":"0x00"}]""", "garbage JSON"),
        ["a control character unescaped in a string"] = Refused(1, "[{\"id\":0,\"result\":\"a\tb\"}]", "garbage JSON"),
        ["a result nested one past the depth limit"] = Refused(1,
            "[{\"id\":0,\"result\":" + new string('[', 63) + new string(']', 63) + "}]", "garbage JSON"),
        ["a UTF-8 byte-order mark"] = Refused(1, [0xef, 0xbb, 0xbf, .. Encoding.UTF8.GetBytes("""[{"id":0,"result":"0x00"}]""")], "garbage JSON"),

        // Roots that are not an array.
        ["a number as the root"] = Refused(1, "42", "a batch was answered with a JSON Number, not an array"),
        ["a string as the root"] = Refused(1, "\"0xf90211\"", "a batch was answered with a JSON String, not an array"),
        ["null as the root"] = Refused(1, "null", "a batch was answered with a JSON Null, not an array"),
        ["true as the root"] = Refused(1, "true", "a batch was answered with a JSON True, not an array"),
        ["a single answer as the root"] = Refused(1, """{"jsonrpc":"2.0","id":0,"result":"0x00"}""", "a batch was answered with a JSON Object, not an array"),
        ["an error object as the root refuses the batch"] = Refused(2,
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"batch limit exceeded"}}""", "batch refused: -32005 batch limit exceeded"),
        ["a refused batch followed by garbage"] = Refused(1, """{"error":{"code":-32005,"message":"no"}} x""", AnyWording),

        // One answer per call, no more, no less.
        ["fewer answers than calls"] = Refused(3,
            """[{"id":0,"result":"0x00"},{"id":2,"result":"0x02"}]""", "truncated batch: 2 of 3 calls answered"),
        ["an empty array"] = Refused(1, "[]", "truncated batch: 0 of 1 calls answered"),
        ["an answer to a call not made"] = Refused(2,
            """[{"id":0,"result":"0x00"},{"id":5,"result":"0x05"}]""", "batch answer with unknown id 5 (asked 2 calls)"),
        ["a negative id"] = Refused(1, """[{"id":-1,"result":"0x00"}]""", "unknown id -1"),
        ["more answers than calls"] = Refused(1, """[{"id":0,"result":"0x00"},{"id":1,"result":"0x01"}]""", "unknown id 1"),
        ["an id answered twice"] = Refused(2, """[{"id":0,"result":"0x00"},{"id":0,"result":"0x01"}]""", "batch answer id 0 repeated"),
        ["an id answered twice, after an answer past the first buffer"] = Refused(2,
            $$"""[{"id":0,"result":"{{Hex(Buffer + 10)}}"},{"id":0,"result":"0x01"}]""", "batch answer id 0 repeated"),
        ["an answer without an id"] = Refused(1, """[{"jsonrpc":"2.0","result":"0x00"}]""", "batch answer 0 has no numeric id"),
        ["an id that is a string"] = Refused(1, """[{"id":"0","result":"0x00"}]""", "batch answer 0 has no numeric id"),
        ["an id that is a fraction"] = Refused(1, """[{"id":0.5,"result":"0x00"}]""", "batch answer 0 has no numeric id"),
        ["an id beyond 32 bits"] = Refused(1, """[{"id":4294967296,"result":"0x00"}]""", "batch answer 0 has no numeric id"),
        ["a number among the answers"] = Refused(2, """[{"id":0,"result":"0x00"},1]""", "batch answer 1 has no numeric id"),
        ["an array among the answers"] = Refused(1, """[[{"id":0,"result":"0x00"}]]""", "batch answer 0 has no numeric id"),
        ["null among the answers"] = Refused(1, "[null]", "batch answer 0 has no numeric id"),
        ["an answer with neither result nor error"] = Refused(1, """[{"jsonrpc":"2.0","id":0}]""", "batch answer id 0 has neither result nor error"),
        ["an error of null and no result"] = Refused(1, """[{"id":0,"error":null}]""", "batch answer id 0 has neither result nor error"),
        ["an error that is a string"] = Refused(1, """[{"id":0,"error":"boom"}]""", "batch answer id 0 has a malformed error object"),
        ["an error whose code is a string"] = Refused(1, """[{"id":0,"error":{"code":"-32000","message":"x"}}]""", "batch answer id 0 has a malformed error object"),

        // Bytes that are not UTF-8.
        ["invalid UTF-8 inside a result"] = Refused(1, WithByte("""[{"id":0,"result":"0xf9""", 0xff, "\"}]"), "answer is not valid UTF-8"),
        ["invalid UTF-8 in a refused batch's message"] = Refused(1, WithByte("""{"error":{"code":-32000,"message":"a""", 0xc3, "\"}}"), "answer is not valid UTF-8"),
        ["a UTF-8 sequence cut short in a member name"] = Refused(1, WithByte("""[{"id":0,"result":null,"x""", 0xe6, "\":1}]"), "answer is not valid UTF-8"),
        ["invalid UTF-8 in a string that is not an answer"] = Refused(1, WithByte("""["a""", 0xff, "\"]"), AnyWording),
        ["invalid UTF-8 after an answer that is refused first"] = Refused(1,
            WithByte("""[{"id":7,"result":"0x00"},{"id":0,"result":"0x""", 0xff, "\"}]"), AnyWording),
    };

    public static TheoryData<string, int> Differential()
    {
        var rows = new TheoryData<string, int>();
        foreach (var proves in Cases.Keys)
        {
            foreach (var size in ReadSizes)
            {
                rows.Add(proves, size);
            }
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(Differential))]
    public async Task Streamed_and_whole_bodies_are_judged_alike(string proves, int readSize)
    {
        var (count, body, refusal) = Cases[proves];

        var whole = ParseWhole(body, count);
        var streamed = await ReadStreamedAsync(new ChunkedStream(body, readSize), count, NoLimit);

        Assert.True((whole.Answers is null) == (streamed.Answers is null), $"{proves}: whole {whole}, streamed {streamed}");
        Assert.Equal(whole.Answers, streamed.Answers);
        if (refusal is null)
        {
            Assert.NotNull(whole.Answers);
        }
        else
        {
            Assert.Contains(refusal, whole.Refusal, StringComparison.Ordinal);
            Assert.Contains(refusal, streamed.Refusal, StringComparison.Ordinal);
        }
    }

    /// <summary>What comes before the tail and ends where the first buffer ends, less the cut.</summary>
    private enum Filler
    {
        /// <summary>An answer with id 0 and a hex result: the array is open when the buffer ends.</summary>
        Answer,

        /// <summary>Whitespace: the first token is the tail's.</summary>
        Whitespace,
    }

    /// <summary>
    /// Answers that follow a filler sized so that the first buffer ends <c>cut</c> bytes into them: in a number, a
    /// literal, an escape, an é, a member name, between answers, at the array's end and after it.
    /// </summary>
    private static readonly Dictionary<string, (int Count, Filler Filler, string Tail, string? Refusal)> Tails = new()
    {
        ["answers of every JSON kind, an error and whitespace"] = (3, Filler.Answer,
            """ , {"jsonrpc":"2.0","id":1,"result":[null,true,false,-12.5e3,"\u00e9\"\\é",{"a":{}}]} ,{"id":2,"error":{"code":-32000,"message":"é"}} ]""" + " \n", null),
        ["garbage after the array"] = (2, Filler.Answer, """,{"id":1,"result":"0x01"}] x""", "garbage JSON"),
        ["an id repeated"] = (2, Filler.Answer, """,{"id":0,"result":1}]""", "batch answer id 0 repeated"),
        ["an array opened after leading whitespace"] = (1, Filler.Whitespace, """[{"id":0,"result":"0x01"}]""", null),
        ["a refused batch after leading whitespace"] = (1, Filler.Whitespace,
            """{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"limit exceeded"}}""", "batch refused: -32005 limit exceeded"),
    };

    public static TheoryData<string, int> Cuts()
    {
        var rows = new TheoryData<string, int>();
        foreach (var (proves, tail) in Tails)
        {
            for (var cut = 0; cut <= Encoding.UTF8.GetByteCount(tail.Tail); cut++)
            {
                rows.Add(proves, cut);
            }
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public async Task The_first_buffer_may_end_at_any_byte_of_the_answers(string proves, int cut)
    {
        var (count, filler, tail, refusal) = Tails[proves];
        var tailBytes = Encoding.UTF8.GetBytes(tail);
        // The first buffer ends `cut` bytes into the tail: inside an é's two bytes too.
        var body = new byte[Buffer - cut + tailBytes.Length];
        var head = body.AsSpan(0, Buffer - cut);
        if (filler == Filler.Answer)
        {
            head.Fill((byte)'a');
            """[{"jsonrpc":"2.0","id":0,"result":"0x"""u8.CopyTo(head);
            "\"}"u8.CopyTo(head[^2..]);
        }
        else
        {
            head.Fill((byte)' ');
        }
        tailBytes.CopyTo(body.AsSpan(Buffer - cut));

        var whole = ParseWhole(body, count);
        var streamed = await ReadStreamedAsync(new ChunkedStream(body, Whole), count, NoLimit);

        Assert.Equal(whole.Answers, streamed.Answers);
        Assert.Equal(refusal is null, whole.Answers is not null);
        Assert.Equal(refusal is null, streamed.Answers is not null);
        if (refusal is not null)
        {
            Assert.Contains(refusal, whole.Refusal, StringComparison.Ordinal);
            Assert.Contains(refusal, streamed.Refusal, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_prefix_of_an_honest_answer_is_judged_alike()
    {
        var body = Encoding.UTF8.GetBytes(
            """[{"jsonrpc":"2.0","id":1,"result":[null,true,-1.5e3,"\u00e9é"]},{"id":0,"error":{"code":-32000,"message":"x"}}] """);

        for (var length = 0; length <= body.Length; length++)
        {
            var prefix = body[..length];

            var whole = ParseWhole(prefix, 2);
            var streamed = await ReadStreamedAsync(new ChunkedStream(prefix, 3), 2, NoLimit);

            Assert.True((whole.Answers is null) == (streamed.Answers is null), $"{length} bytes: whole {whole}, streamed {streamed}");
            Assert.Equal(whole.Answers, streamed.Answers);
        }
    }

    [Theory]
    [InlineData("a small answer, one byte a read", 60, 1)]
    [InlineData("a small answer, in one read", 60, Whole)]
    [InlineData("an answer that grows the buffer up to the limit, a page a read", Buffer + 4321, 4096)]
    [InlineData("an answer that grows the buffer up to the limit, in one read", Buffer + 4321, Whole)]
    public async Task An_answer_of_exactly_the_limit_is_read_whole(string proves, int size, int readSize)
    {
        Assert.NotEmpty(proves);
        var body = Padded(size);
        var stream = new ChunkedStream(body, readSize);

        var streamed = await ReadStreamedAsync(stream, 1, maxBytes: size);

        Assert.Equal(ParseWhole(body, 1).Answers, streamed.Answers);
        Assert.NotNull(streamed.Answers);
        Assert.Equal(size, stream.Consumed);
    }

    [Theory]
    [InlineData("a small limit, one byte a read", 60, 1)]
    [InlineData("a small limit, in one read", 60, Whole)]
    [InlineData("one byte over the first buffer", Buffer, 7)]
    [InlineData("a limit the buffer grows to, a page a read", Buffer + 4321, 4096)]
    [InlineData("a limit the buffer grows to, in one read", Buffer + 4321, Whole)]
    public async Task An_answer_over_the_limit_is_refused_one_byte_past_it(string proves, int limit, int readSize)
    {
        Assert.NotEmpty(proves);
        var stream = new ChunkedStream(Padded((2 * limit) + 100), readSize);

        var streamed = await ReadStreamedAsync(stream, 1, maxBytes: limit);

        Assert.Equal($"answer is over the {limit}-byte limit", streamed.Refusal);
        Assert.Equal(limit + 1, stream.Consumed);
    }

    [Fact]
    public async Task An_answer_that_ends_one_byte_past_the_limit_is_refused()
    {
        var body = Padded(61);
        var stream = new ChunkedStream(body, Whole);

        var streamed = await ReadStreamedAsync(stream, 1, maxBytes: 60);

        Assert.Equal("answer is over the 60-byte limit", streamed.Refusal);
        Assert.Equal(61, stream.Consumed);
    }

    [Theory]
    [InlineData("a small answer", 60)]
    [InlineData("an answer that grows the buffer", Buffer + 4321)]
    public async Task No_limit_at_all_reads_the_answer_whole(string proves, int size)
    {
        Assert.NotEmpty(proves);
        var body = Padded(size);

        // RpcSyncPeerOptions.MaxResponseBytes has no upper bound: long.MaxValue is how an operator says "none".
        var streamed = await ReadStreamedAsync(new ChunkedStream(body, 4096), 1, maxBytes: long.MaxValue);

        Assert.Equal(ParseWhole(body, 1).Answers, streamed.Answers);
        Assert.NotNull(streamed.Answers);
    }

    [Theory]
    [InlineData(typeof(PeerException))]
    [InlineData(typeof(InvalidOperationException))]
    public async Task What_the_reader_throws_ends_the_read_unchanged_and_no_later_answer_is_read(Type type)
    {
        var thrown = (Exception)Activator.CreateInstance(type, "raw block #1 does not decode")!;
        // The first answer grows the buffer, so the throw leaves through the larger one's return to the pool.
        var body = Encoding.UTF8.GetBytes(
            $$"""[{"id":0,"result":"{{Hex(Buffer + 100)}}"},{"id":1,"result":"0x01"},{"id":2,"result":"0x02"}]""");
        var read = new List<int>();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => JsonRpcStream.ReadAsync<string>(
            new ChunkedStream(body, 4096), 3, NoLimit, (id, _) =>
            {
                read.Add(id);
                return id == 1 ? throw thrown : "read";
            }, CancellationToken.None).WaitAsync(Hang));

        Assert.Same(thrown, error);
        Assert.Equal([0, 1], read);
    }

    [Theory]
    [InlineData("before a byte arrives", 0)]
    [InlineData("in the middle of an answer", 30)]
    [InlineData("after whole answers, before the array's end", 50)]
    public async Task A_read_stalled_until_cancelled_ends_in_OperationCanceledException(string proves, int served)
    {
        Assert.NotEmpty(proves);
        var body = Encoding.UTF8.GetBytes("""[{"id":0,"result":"0x00"},{"id":1,"result":"0x01"}]""");
        var stream = new StallingStream(body[..served]);
        using var cancel = new CancellationTokenSource();

        var reading = JsonRpcStream.ReadAsync(stream, 2, NoLimit, Text, cancel.Token);
        await stream.Stalled.Task.WaitAsync(Hang);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Hang));
    }

    /// <summary>How a parser judged a body: each call's answer as text, or why it refused the body.</summary>
    private sealed record Judgement(string?[]? Answers, string? Refusal)
    {
        public override string ToString() => Answers is null ? $"refused ({Refusal})" : $"[{string.Join(", ", Answers)}]";
    }

    private static Judgement ParseWhole(byte[] body, int count)
    {
        try
        {
            using var batch = JsonRpcBatch.Parse(body, count);
            return new Judgement([.. Enumerable.Range(0, batch.Count).Select(id => Text(id, batch[id]))], null);
        }
        catch (PeerException e)
        {
            return new Judgement(null, e.Message);
        }
    }

    private static async Task<Judgement> ReadStreamedAsync(Stream stream, int count, long maxBytes)
    {
        try
        {
            // Each result's text is taken inside the call, while its bytes are in the buffer.
            return new Judgement(await JsonRpcStream.ReadAsync(stream, count, maxBytes, Text, CancellationToken.None).WaitAsync(Hang), null);
        }
        catch (PeerException e)
        {
            return new Judgement(null, e.Message);
        }
    }

    /// <summary>An answer as text that tells every difference apart: the id it came to, then its result's raw JSON or its error.</summary>
    private static string Text(int id, JsonRpcAnswer answer) =>
        answer.Error is { } error ? $"{id}: error {error.Code} {error.Message}" : $"{id}: result {answer.Result.GetRawText()}";

    private static Case Answered(int count, string body) => new(count, Encoding.UTF8.GetBytes(body), null);

    private static Case Refused(int count, string body, string refusal) => new(count, Encoding.UTF8.GetBytes(body), refusal);

    private static Case Refused(int count, byte[] body, string refusal) => new(count, body, refusal);

    private static byte[] WithByte(string before, byte b, string after) =>
        [.. Encoding.UTF8.GetBytes(before), b, .. Encoding.UTF8.GetBytes(after)];

    /// <summary>"0x" and hex digits, <paramref name="length"/> characters in all: a raw block's shape.</summary>
    private static string Hex(int length) => string.Create(length, 0, static (digits, _) =>
    {
        for (var i = 0; i < digits.Length; i++)
        {
            digits[i] = "0123456789abcdef"[(i * 7) % 16];
        }
        "0x".CopyTo(digits);
    });

    /// <summary>An honest answer to one call, <paramref name="size"/> bytes long with the hex of its result.</summary>
    private static byte[] Padded(int size)
    {
        const string Frame = """[{"jsonrpc":"2.0","id":0,"result":""}]""";
        return Encoding.UTF8.GetBytes($$"""[{"jsonrpc":"2.0","id":0,"result":"{{Hex(size - Frame.Length)}}"}]""");
    }

    /// <summary>Hands out its bytes, then waits until cancelled: a node that went silent mid-answer.</summary>
    private sealed class StallingStream(byte[] data) : Stream
    {
        private int _served;

        /// <summary>Completes when a read has found nothing more to hand out and waits.</summary>
        public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_served < data.Length)
            {
                var n = Math.Min(buffer.Length, data.Length - _served);
                data.AsMemory(_served, n).CopyTo(buffer);
                _served += n;
                return n;
            }
            Stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
