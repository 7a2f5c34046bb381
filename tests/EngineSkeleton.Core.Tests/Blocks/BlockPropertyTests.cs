using System.Numerics;
using CsCheck;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Tests.Blocks;

/// <summary>
/// Encode → decode → equal for generated headers of every fork's shape, transactions of every type and whole blocks
/// (CsCheck; a failure prints the seed that replays it). Decoding is strict, so the bytes must come back too.
/// </summary>
public sealed class BlockPropertyTests
{
    private static readonly Gen<Hash256> Hash = Gen.Byte.Array[Hash256.Size].Select(b => new Hash256(b));

    private static readonly Gen<BigInteger> UInt256 = Gen.Byte.Array[0, 32].Select(b => new BigInteger(b, isUnsigned: true, isBigEndian: true));

    /// <summary>0: Frontier (15 fields), 1: London (16), 2: Shanghai (17), 3: Cancun (20), 4: Prague (21).</summary>
    private static readonly Gen<BlockHeader> Header =
        Gen.Select(Hash.Array[9], Gen.ULong.Array[7], UInt256.Array[2], Gen.Byte.Array[0, 32], Gen.Byte.Array[BlockHeader.LogsBloomSize], Gen.Byte.Array[Address.Size], Gen.Int[0, 4])
            .Select(t =>
            {
                var (h, u, big, extra, bloom, beneficiary, shape) = t;
                return new BlockHeader
                {
                    ParentHash = h[0],
                    OmmersHash = h[1],
                    Beneficiary = new Address(beneficiary),
                    StateRoot = h[2],
                    TransactionsRoot = h[3],
                    ReceiptsRoot = h[4],
                    LogsBloom = bloom,
                    Difficulty = big[0],
                    Number = u[0],
                    GasLimit = u[1],
                    GasUsed = u[2],
                    Timestamp = u[3],
                    ExtraData = extra,
                    MixHash = h[5],
                    Nonce = u[4],
                    BaseFeePerGas = shape >= 1 ? big[1] : null,
                    WithdrawalsRoot = shape >= 2 ? h[6] : null,
                    BlobGasUsed = shape >= 3 ? u[5] : null,
                    ExcessBlobGas = shape >= 3 ? u[6] : null,
                    ParentBeaconBlockRoot = shape >= 3 ? h[7] : null,
                    RequestsHash = shape >= 4 ? h[8] : null,
                };
            });

    /// <summary>Field counts by EIP-2718 type: legacy 9, access list 11, dynamic fee 12, blob 14, set code 13.</summary>
    private static readonly int[] FieldCounts = [9, 11, 12, 14, 13];

    /// <summary>A structurally well-formed transaction of any type: fields are strings, the access list a list of them.</summary>
    private static readonly Gen<byte[]> Transaction =
        Gen.Int[0, 4].SelectMany(type => Gen.Byte.Array[0, 40].Array[FieldCounts[type]].Select(Gen.Byte.Array[0, 20].Array[0, 3], (fields, accessList) =>
        {
            var items = fields.Select(f => RlpWriter.EncodeBytes(f)).ToList();
            if (type != Transactions.Legacy)
            {
                items[7] = List(accessList.Select(a => RlpWriter.EncodeBytes(a)));
            }
            var list = List(items);
            return type == Transactions.Legacy ? list : [(byte)type, .. list];
        }));

    private static readonly Gen<Withdrawal> AWithdrawal =
        Gen.Select(Gen.ULong, Gen.ULong, Gen.Byte.Array[Address.Size], Gen.ULong, (i, v, a, g) => new Withdrawal(i, v, new Address(a), g));

    private static readonly Gen<Block> ABlock =
        Gen.Select(Header, Transaction.Array[0, 5], Header.Array[0, 2], AWithdrawal.Array[0, 4], (header, txs, ommers, withdrawals) =>
            new Block(header, new BlockBody(txs, ommers, header.WithdrawalsRoot is null ? null : withdrawals)));

    [Fact]
    public void Headers_of_every_shape_decode_to_equal_headers_and_the_same_bytes()
    {
        Header.Sample(header =>
        {
            var encoded = header.Encode();
            var decoded = BlockHeader.Decode(encoded);
            Assert.Equal(header, decoded);
            Assert.Equal(encoded, decoded.Encode());
            Assert.Equal(header.Hash, decoded.Hash);
        }, iter: 2_000);
    }

    [Fact]
    public void Generated_transactions_of_every_type_are_well_formed_and_keep_their_type()
    {
        Transaction.Sample(tx =>
        {
            Assert.True(Transactions.IsWellFormed(tx, out var error), error);
            Assert.True(Transactions.TryGetType(tx, out var type));
            Assert.Equal(tx[0] >= 0xc0 ? Transactions.Legacy : tx[0], type);
        });
    }

    [Fact]
    public void Blocks_decode_to_equal_blocks_and_the_same_bytes()
    {
        ABlock.Sample(block =>
        {
            var encoded = block.Encode();
            var decoded = Block.Decode(encoded);
            Assert.Equal(block.Header, decoded.Header);
            Assert.Equal(block.Body, decoded.Body);
            Assert.Equal(encoded, decoded.Encode());
        }, iter: 1_000);
    }

    [Fact]
    public void Bodies_decode_to_equal_bodies_and_the_same_bytes()
    {
        ABlock.Select(b => b.Body).Sample(body =>
        {
            var encoded = body.Encode();
            Assert.Equal(body, BlockBody.Decode(encoded));
            Assert.Equal(encoded, BlockBody.Decode(encoded).Encode());
        }, iter: 1_000);
    }

    [Fact]
    public void Concatenated_blocks_decode_in_order()
    {
        ABlock.Array[1, 4].Sample(blocks =>
        {
            var decoded = Block.DecodeConcatenated(blocks.SelectMany(b => b.Encode()).ToArray());
            Assert.Equal(blocks.Select(b => b.Hash), decoded.Select(b => b.Hash));
        }, iter: 300);
    }

    private static byte[] List(IEnumerable<byte[]> items)
    {
        var payload = items.SelectMany(i => i).ToArray();
        var output = new byte[RlpWriter.LengthOfList(payload.Length)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload.Length);
        writer.WriteRaw(payload);
        return output;
    }
}
