using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Blocks;

public sealed class BlockHeaderTests
{
    /// <summary>How to spoil a real Prague header's field list before it is re-wrapped as a list.</summary>
    public enum Spoil
    {
        DropLastField,
        DropLastTwoFields,
        AppendField,
        DropAllOptionalFields14,
        ShortNonce,
        ShortBloom,
        LeadingZeroInNumber,
        BaseFeeAsList,
        TrailingByteAfterHeader,
    }

    public static TheoryData<string, Spoil> Malformed => new()
    {
        { "19 fields match no fork (Cancun has 20, Shanghai 17)", Spoil.DropLastTwoFields },
        { "a 22nd field is a shape no fork has", Spoil.AppendField },
        { "14 fields are fewer than Frontier's 15", Spoil.DropAllOptionalFields14 },
        { "the nonce is exactly 8 bytes", Spoil.ShortNonce },
        { "the logs bloom is exactly 256 bytes", Spoil.ShortBloom },
        { "the block number is a canonical integer without leading zeros", Spoil.LeadingZeroInNumber },
        { "the base fee is an integer, not a list", Spoil.BaseFeeAsList },
        { "a header must span the whole input it is decoded from", Spoil.TrailingByteAfterHeader },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_headers_are_refused(string proves, Spoil spoil)
    {
        Assert.NotEmpty(proves);
        var input = SpoilPragueHeader(spoil);
        Assert.Throws<RlpException>(() => BlockHeader.Decode(input));
        Assert.False(BlockHeader.TryDecode(input, out var header, out var error));
        Assert.Null(header);
        Assert.StartsWith("RLP: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Twenty_field_Cancun_shape_is_accepted_when_the_Prague_field_is_dropped()
    {
        var header = BlockHeader.Decode(SpoilPragueHeader(Spoil.DropLastField));
        Assert.Null(header.RequestsHash);
        Assert.NotNull(header.ParentBeaconBlockRoot);
    }

    [Fact]
    public void A_one_byte_change_changes_the_hash()
    {
        var header = TestData.PragueHeader;
        var encoded = header.Encode();
        // Flip the last byte of the state root (parent 33 + ommers 33 + beneficiary 21 + state 33, after the list prefix).
        var stateRootLastByte = RlpWriter.LengthOfList(0) + 2 + 33 + 33 + 21 + 32;
        encoded[stateRootLastByte] ^= 0x01;
        var changed = BlockHeader.Decode(encoded);
        Assert.NotEqual(header.StateRoot, changed.StateRoot);
        Assert.NotEqual(header.Hash, changed.Hash);
        Assert.NotEqual(header, changed);
    }

    [Fact]
    public void Changing_a_field_with_with_rehashes_instead_of_reusing_the_cached_hash()
    {
        var header = TestData.PragueHeader;
        var original = header.Hash;
        var changed = header with { GasUsed = header.GasUsed + 1 };
        Assert.NotEqual(original, changed.Hash);
        Assert.Equal(original, header.Hash);
        Assert.Equal(header, header with { });
    }

    [Fact]
    public void Encoded_bytes_are_the_ones_received_or_hashed_and_a_with_copy_encodes_its_own()
    {
        var received = TestData.PragueHeader.Encode();
        var decoded = BlockHeader.Decode(received);
        Assert.Equal(received, decoded.EncodedBytes());
        Assert.NotSame(received, decoded.EncodedBytes()); // a copy: the caller's buffer may be reused

        var built = decoded with { };
        Assert.Equal(received, built.EncodedBytes()); // not hashed yet: encoded on demand
        _ = built.Hash;
        Assert.Same(built.EncodedBytes(), built.EncodedBytes()); // hashed: the bytes the hash came from, kept

        var changed = decoded with { GasUsed = decoded.GasUsed + 1 };
        Assert.Equal(changed.Encode(), changed.EncodedBytes());
        Assert.NotEqual(received, changed.EncodedBytes());
    }

    [Fact]
    public void HashAll_gives_each_header_the_hash_of_its_own_encoding()
    {
        // 41 headers of every kind HashAll meets: decoded and not hashed yet, built, already hashed, and `with`
        // copies of decoded ones (which must not take the bytes of the header they were copied from).
        var source = TestData.PragueHeader;
        var headers = new List<BlockHeader>();
        for (var i = 0; i < 41; i++)
        {
            var built = source with { Number = source.Number + (ulong)i, GasUsed = (ulong)i * 21_000 };
            headers.Add((i % 4) switch
            {
                0 => BlockHeader.Decode(built.Encode()),
                1 => built,
                2 => BlockHeader.Decode(built.Encode()) with { Timestamp = built.Timestamp + 1 },
                _ => Hashed(BlockHeader.Decode(built.Encode())),
            });
        }
        BlockHeader.HashAll(headers);
        foreach (var header in headers)
        {
            Assert.Equal(Keccak256.Hash(header.Encode()), header.Hash);
            Assert.Equal(header.Encode(), header.EncodedBytes());
        }
        Assert.Equal(headers.Select(h => h.Hash).Distinct().Count(), headers.Count);

        static BlockHeader Hashed(BlockHeader header)
        {
            _ = header.Hash;
            return header;
        }
    }

    [Fact]
    public void Equality_compares_byte_arrays_by_content()
    {
        var header = TestData.PragueHeader;
        var copy = header with { ExtraData = header.ExtraData.ToArray(), LogsBloom = header.LogsBloom.ToArray() };
        Assert.Equal(header, copy);
        Assert.Equal(header.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(header, header with { ExtraData = [.. header.ExtraData, 0x00] });
    }

    [Theory]
    [InlineData("a withdrawals root requires a base fee (Shanghai follows London)", "no-basefee")]
    [InlineData("a requests hash requires the Cancun fields", "no-cancun")]
    [InlineData("the three Cancun fields come together", "half-cancun")]
    public void Encoding_refuses_optional_fields_that_skip_a_fork(string proves, string change)
    {
        Assert.NotEmpty(proves);
        var header = TestData.PragueHeader;
        var broken = change switch
        {
            "no-basefee" => header with { BaseFeePerGas = null },
            "no-cancun" => header with { BlobGasUsed = null, ExcessBlobGas = null, ParentBeaconBlockRoot = null },
            _ => header with { RequestsHash = null, ExcessBlobGas = null },
        };
        Assert.Throws<InvalidOperationException>(() => broken.Encode());
    }

    [Fact]
    public void A_bloom_that_is_not_256_bytes_is_refused_on_construction()
    {
        Assert.Throws<ArgumentException>(() => new BlockHeader { LogsBloom = new byte[255] });
    }

    [Fact]
    public void A_minimal_Frontier_header_round_trips()
    {
        var header = new BlockHeader { LogsBloom = new byte[BlockHeader.LogsBloomSize], Number = 1, Nonce = ulong.MaxValue };
        var decoded = BlockHeader.Decode(header.Encode());
        Assert.Equal(header, decoded);
        Assert.Equal(header.Hash, decoded.Hash);
    }

    /// <summary>Takes the real Prague header apart into its raw fields, applies the change and wraps it up again.</summary>
    private static byte[] SpoilPragueHeader(Spoil spoil)
    {
        var encoded = TestData.PragueHeader.Encode();
        var fields = new List<byte[]>();
        var list = new RlpReader(encoded).ReadList();
        while (list.HasMore)
        {
            fields.Add(list.ReadRawItem().ToArray());
        }
        switch (spoil)
        {
            case Spoil.DropLastField:
                fields.RemoveAt(20);
                break;
            case Spoil.DropLastTwoFields:
                fields.RemoveRange(19, 2);
                break;
            case Spoil.AppendField:
                fields.Add(RlpWriter.EncodeUInt64(1));
                break;
            case Spoil.DropAllOptionalFields14:
                fields.RemoveRange(14, 7);
                break;
            case Spoil.ShortNonce:
                fields[14] = RlpWriter.EncodeBytes(new byte[7]);
                break;
            case Spoil.ShortBloom:
                fields[6] = RlpWriter.EncodeBytes(new byte[255]);
                break;
            case Spoil.LeadingZeroInNumber:
                fields[8] = [0x82, 0x00, 0x36];
                break;
            case Spoil.BaseFeeAsList:
                fields[15] = [0xc1, 0x07];
                break;
            case Spoil.TrailingByteAfterHeader:
                return [.. Wrap(fields), 0x80];
            default:
                throw new ArgumentOutOfRangeException(nameof(spoil));
        }
        return Wrap(fields);
    }

    private static byte[] Wrap(List<byte[]> fields)
    {
        var payload = fields.Sum(f => f.Length);
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        foreach (var field in fields)
        {
            writer.WriteRaw(field);
        }
        return output;
    }

}
