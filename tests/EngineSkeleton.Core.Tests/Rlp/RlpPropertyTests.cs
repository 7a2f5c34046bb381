using System.Numerics;
using CsCheck;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Tests.Rlp;

/// <summary>
/// Round trips and canonical-form rejection of RLP over generated values (CsCheck; a failure prints the seed that
/// replays it). The reader is strict so that a value has exactly one encoding: each refusal case writes a value's
/// canonical encoding in another, legal-looking form and expects the reader to refuse it.
/// </summary>
public sealed class RlpPropertyTests
{
    private static readonly Gen<byte[]> Bytes = Gen.Byte.Array[0, 300];

    /// <summary>Unsigned integers of 0 to 256 bits, with the small and the boundary values well represented.</summary>
    private static readonly Gen<BigInteger> UInt256 =
        Gen.Byte.Array[0, 32].Select(b => new BigInteger(b, isUnsigned: true, isBigEndian: true));

    private static readonly Gen<RlpTree> Tree = Gen.Recursive<RlpTree>((depth, tree) =>
        depth >= 4
            ? Bytes.Select(b => new RlpTree(b, null))
            : Gen.Frequency((3, Bytes.Select(b => new RlpTree(b, null))), (1, tree.Array[0, 6].Select(c => new RlpTree(null, c)))));

    [Fact]
    public void Byte_strings_decode_to_themselves()
    {
        Bytes.Sample(bytes =>
        {
            var reader = new RlpReader(RlpWriter.EncodeBytes(bytes));
            Assert.Equal(bytes, reader.ReadBytes().ToArray());
            reader.EnsureEnd();
        });
    }

    [Fact]
    public void UInt64_values_decode_to_themselves()
    {
        Gen.ULong.Sample(value =>
        {
            var reader = new RlpReader(RlpWriter.EncodeUInt64(value));
            Assert.Equal(value, reader.ReadUInt64());
            reader.EnsureEnd();
        });
    }

    [Fact]
    public void Integers_up_to_256_bits_decode_to_themselves()
    {
        UInt256.Sample(value =>
        {
            var output = new byte[RlpWriter.LengthOfBigInteger(value)];
            var writer = new RlpWriter(output);
            writer.WriteBigInteger(value);
            Assert.Equal(output.Length, writer.Position);
            var reader = new RlpReader(output);
            Assert.Equal(value, reader.ReadBigInteger());
            reader.EnsureEnd();
        });
    }

    [Fact]
    public void Nested_lists_decode_to_the_same_tree()
    {
        Tree.Sample(tree =>
        {
            var encoded = tree.Encode();
            var reader = new RlpReader(encoded);
            Assert.Equal(tree, RlpTree.Read(ref reader));
            reader.EnsureEnd();
        });
    }

    [Fact]
    public void Every_strict_prefix_of_an_encoding_is_refused()
    {
        Tree.Select(Gen.Int.Uniform).Sample((tree, cut) =>
        {
            var encoded = tree.Encode();
            var length = (int)((uint)cut % encoded.Length);
            Assert.Throws<RlpException>(() =>
            {
                var reader = new RlpReader(encoded.AsSpan(0, length));
                RlpTree.Read(ref reader);
                reader.EnsureEnd();
            });
        });
    }

    [Fact]
    public void A_single_byte_below_0x80_wrapped_as_a_string_is_refused()
    {
        Gen.Byte[0, 0x7f].Sample(b =>
        {
            Assert.Throws<RlpException>(() => new RlpReader([0x81, b]).ReadBytes());
        });
    }

    [Fact]
    public void The_long_form_for_a_length_below_56_is_refused()
    {
        Gen.Byte.Array[0, 55].Select(Gen.Bool).Sample((payload, isList) =>
        {
            byte[] encoded = [isList ? (byte)0xf8 : (byte)0xb8, (byte)payload.Length, .. payload];
            Assert.Throws<RlpException>(() => new RlpReader(encoded).SkipItem());
        });
    }

    [Fact]
    public void A_length_with_a_leading_zero_byte_is_refused()
    {
        Gen.Byte.Array[56, 300].Select(Gen.Bool).Sample((payload, isList) =>
        {
            var lengthBytes = MinimalBigEndian((ulong)payload.Length);
            byte[] encoded = [(byte)((isList ? 0xf7 : 0xb7) + lengthBytes.Length + 1), 0x00, .. lengthBytes, .. payload];
            Assert.Throws<RlpException>(() => new RlpReader(encoded).SkipItem());
        });
    }

    [Fact]
    public void An_integer_with_a_leading_zero_byte_is_refused()
    {
        Gen.ULong.Sample(value =>
        {
            byte[] padded = [0x00, .. MinimalBigEndian(value)];
            var encoded = RlpWriter.EncodeBytes(padded);
            Assert.Throws<RlpException>(() => new RlpReader(encoded).ReadUInt64());
            Assert.Throws<RlpException>(() => new RlpReader(encoded).ReadBigInteger());
        });
    }

    [Fact]
    public void Integers_wider_than_their_type_are_refused()
    {
        Gen.Byte[1, 255].Select(Gen.Byte.Array[8, 31]).Sample((first, rest) =>
        {
            var encoded = RlpWriter.EncodeBytes([first, .. rest]);
            Assert.Throws<RlpException>(() => new RlpReader(encoded).ReadUInt64());
        });
    }

    private static byte[] MinimalBigEndian(ulong value)
    {
        var bytes = new List<byte>();
        for (; value != 0; value >>= 8)
        {
            bytes.Insert(0, (byte)value);
        }
        return [.. bytes];
    }

    /// <summary>An RLP item as a value: a string's bytes, or a list's children; compared by value.</summary>
    internal sealed record RlpTree(byte[]? Bytes, RlpTree[]? Children)
    {
        public bool Equals(RlpTree? other) =>
            other is not null
            && (Bytes is null ? other.Bytes is null : other.Bytes is not null && Bytes.AsSpan().SequenceEqual(other.Bytes))
            && (Children is null ? other.Children is null : other.Children is not null && Children.SequenceEqual(other.Children));

        public override int GetHashCode() => HashCode.Combine(Bytes?.Length, Children?.Length);

        public override string ToString() =>
            Bytes is not null ? Convert.ToHexStringLower(Bytes) : "[" + string.Join(",", Children!.Select(c => c.ToString())) + "]";

        private int PayloadLength => Children!.Sum(c => c.EncodedLength);

        private int EncodedLength => Bytes is not null ? RlpWriter.LengthOfBytes(Bytes) : RlpWriter.LengthOfList(PayloadLength);

        public byte[] Encode()
        {
            var output = new byte[EncodedLength];
            var writer = new RlpWriter(output);
            Write(ref writer);
            return output;
        }

        public static RlpTree Read(ref RlpReader reader)
        {
            if (!reader.PeekIsList)
            {
                return new RlpTree(reader.ReadBytes().ToArray(), null);
            }
            var list = reader.ReadList();
            var children = new List<RlpTree>();
            while (list.HasMore)
            {
                children.Add(Read(ref list));
            }
            return new RlpTree(null, [.. children]);
        }

        private void Write(ref RlpWriter writer)
        {
            if (Bytes is not null)
            {
                writer.WriteBytes(Bytes);
                return;
            }
            writer.WriteListHeader(PayloadLength);
            foreach (var child in Children!)
            {
                child.Write(ref writer);
            }
        }
    }
}
