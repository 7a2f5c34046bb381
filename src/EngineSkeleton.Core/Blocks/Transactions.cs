using System.Diagnostics.CodeAnalysis;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Blocks;

/// <summary>
/// What the engine needs to know about a transaction without executing it, from its canonical bytes: a legacy
/// transaction's RLP list, or (EIP-2718) a type byte followed by the type's RLP list.
/// </summary>
public static class Transactions
{
    public const byte Legacy = 0x00, AccessList = 0x01, DynamicFee = 0x02, Blob = 0x03, SetCode = 0x04;

    /// <summary>
    /// Nesting a transaction can have: a type-1+ transaction's access list is [[address, [keys]]] inside the
    /// fields list, 4 deep. A bound keeps a crafted tower of lists from exhausting the stack.
    /// </summary>
    private const int MaxDepth = 8;

    public static Hash256 Hash(ReadOnlySpan<byte> tx) => Keccak256.Hash(tx);

    /// <summary>
    /// The EIP-2718 type: 0 for a legacy transaction (first byte 0xc0 or above, an RLP list), else the first byte
    /// if it is in the typed range 0x01..0x7f. False for empty input and for first bytes no envelope starts with.
    /// </summary>
    public static bool TryGetType(ReadOnlySpan<byte> tx, out byte type)
    {
        type = 0;
        if (tx.IsEmpty)
        {
            return false;
        }
        if (tx[0] >= 0xc0)
        {
            return true;
        }
        if (tx[0] is >= 0x01 and <= 0x7f)
        {
            type = tx[0];
            return true;
        }
        return false;
    }

    /// <summary>
    /// A structural check, no signature or semantics: a known type (legacy, 0x01..0x04) followed by exactly one
    /// canonical RLP list with that type's number of fields, every nested item canonical too.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> tx, [NotNullWhen(false)] out string? error)
    {
        if (tx.IsEmpty)
        {
            error = "empty transaction";
            return false;
        }
        if (!TryGetType(tx, out var type) || type > SetCode)
        {
            error = $"unknown transaction type 0x{tx[0]:x2}";
            return false;
        }
        var expected = FieldCount(type);
        try
        {
            var reader = new RlpReader(type == Legacy ? tx : tx[1..]);
            var fields = reader.ReadList();
            reader.EnsureEnd();
            var count = 0;
            while (fields.HasMore)
            {
                Walk(ref fields, 1);
                count++;
            }
            if (count != expected)
            {
                error = $"a type {type} transaction has {expected} fields, this one has {count}";
                return false;
            }
        }
        catch (RlpException e)
        {
            error = e.Message;
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>
    /// The blob versioned hashes a type-3 transaction (EIP-4844) commits to: its field 10 in [chain_id, nonce,
    /// max_priority_fee_per_gas, max_fee_per_gas, gas_limit, to, value, data, access_list,
    /// max_fee_per_blob_gas, blob_versioned_hashes, y_parity, r, s]. Empty for well-formed transactions of other
    /// types; false with a reason for malformed ones.
    /// </summary>
    public static bool TryGetBlobVersionedHashes(
        ReadOnlySpan<byte> tx,
        out IReadOnlyList<Hash256> hashes,
        [NotNullWhen(false)] out string? error)
    {
        hashes = [];
        if (!IsWellFormed(tx, out error))
        {
            return false;
        }
        if (tx[0] != Blob)
        {
            return true;
        }
        try
        {
            var fields = new RlpReader(tx[1..]).ReadList();
            for (var i = 0; i < 10; i++)
            {
                fields.SkipItem();
            }
            var list = fields.ReadList();
            var result = new List<Hash256>();
            while (list.HasMore)
            {
                result.Add(list.ReadHash256());
            }
            hashes = result;
            return true;
        }
        catch (RlpException e)
        {
            error = $"blob versioned hashes: {e.Message}";
            return false;
        }
    }

    private static int FieldCount(byte type) => type switch
    {
        Legacy => 9, // nonce, gasPrice, gas, to, value, data, v, r, s
        AccessList => 11, // EIP-2930: chainId, ..., accessList, yParity, r, s
        DynamicFee => 12, // EIP-1559: gasPrice split into maxPriorityFeePerGas and maxFeePerGas
        Blob => 14, // EIP-4844: + maxFeePerBlobGas, blobVersionedHashes
        SetCode => 13, // EIP-7702: EIP-1559 fields + authorizationList
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static void Walk(ref RlpReader reader, int depth)
    {
        if (!reader.PeekIsList)
        {
            reader.SkipItem();
            return;
        }
        if (depth >= MaxDepth)
        {
            throw new RlpException($"RLP: lists nested deeper than any transaction field (at byte {reader.Offset})");
        }
        var list = reader.ReadList();
        while (list.HasMore)
        {
            Walk(ref list, depth + 1);
        }
    }
}
