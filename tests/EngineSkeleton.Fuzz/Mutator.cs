namespace EngineSkeleton.Fuzz;

/// <summary>
/// Seeded, structure-blind mutations with a bias towards RLP and JSON: the uninstrumented smoke run and the in-process
/// fallback use it. The same seed and corpus give the same inputs, so a failure names its seed and iteration.
/// </summary>
internal sealed class Mutator(int seed)
{
    /// <summary>Bytes at RLP's prefix boundaries and JSON's structure: where decoders branch.</summary>
    private static readonly byte[] Interesting =
    [
        0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xb9, 0xbf, 0xc0, 0xc1, 0xf7, 0xf8, 0xf9, 0xff,
        (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'0', (byte)'x', (byte)'\\',
    ];

    private readonly Random _random = new(seed);

    /// <summary>One to four mutations of a copy of <paramref name="input"/>, spliced with <paramref name="other"/> at times.</summary>
    public byte[] Mutate(ReadOnlySpan<byte> input, ReadOnlySpan<byte> other)
    {
        var data = new List<byte>(input.ToArray());
        var rounds = 1 + _random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            MutateOnce(data, other);
        }
        if (data.Count > FuzzTarget.MaxInputSize)
        {
            data.RemoveRange(FuzzTarget.MaxInputSize, data.Count - FuzzTarget.MaxInputSize);
        }
        return [.. data];
    }

    private void MutateOnce(List<byte> data, ReadOnlySpan<byte> other)
    {
        switch (_random.Next(data.Count == 0 ? 1 : 9))
        {
            case 0: // insert random bytes
                {
                    var at = _random.Next(data.Count + 1);
                    var count = 1 + _random.Next(8);
                    for (var i = 0; i < count; i++)
                    {
                        data.Insert(at, (byte)_random.Next(256));
                    }
                    break;
                }
            case 1: // flip a bit
                {
                    var at = _random.Next(data.Count);
                    data[at] ^= (byte)(1 << _random.Next(8));
                    break;
                }
            case 2: // set an interesting byte
                data[_random.Next(data.Count)] = Interesting[_random.Next(Interesting.Length)];
                break;
            case 3: // set a random byte
                data[_random.Next(data.Count)] = (byte)_random.Next(256);
                break;
            case 4: // delete a range
                {
                    var at = _random.Next(data.Count);
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + _random.Next(16)));
                    break;
                }
            case 5: // truncate
                {
                    var keep = _random.Next(data.Count);
                    data.RemoveRange(keep, data.Count - keep);
                    break;
                }
            case 6: // duplicate a range in place
                {
                    var at = _random.Next(data.Count);
                    var count = Math.Min(data.Count - at, 1 + _random.Next(64));
                    data.InsertRange(at, data.GetRange(at, count));
                    break;
                }
            case 7: // add or subtract a little from a byte (a length prefix one off)
                {
                    var at = _random.Next(data.Count);
                    data[at] = (byte)(data[at] + _random.Next(-4, 5));
                    break;
                }
            default: // splice in a range of another input
                if (!other.IsEmpty)
                {
                    var from = _random.Next(other.Length);
                    var count = Math.Min(other.Length - from, 1 + _random.Next(128));
                    var at = _random.Next(data.Count + 1);
                    data.InsertRange(at, other.Slice(from, count).ToArray());
                }
                break;
        }
    }
}
