namespace EngineSkeleton.Core.Primitives;

/// <summary>A 20-byte account address.</summary>
public sealed record Address
{
    public const int Size = 20;

    private readonly byte[] _bytes;

    public Address(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"an address is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }
        _bytes = bytes.ToArray();
    }

    public static readonly Address Zero = new(new byte[Size]);

    public ReadOnlySpan<byte> Bytes => _bytes;

    public static Address FromHex(string hex) => new(Hex.Decode(hex));

    public bool Equals(Address? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => Hex.Encode(_bytes);
}
