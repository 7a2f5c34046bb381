using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// Rebuilds a body's parts from <c>eth_getBlockByHash(hash, true)</c> for nodes that serve no raw blocks (hardhat):
/// each transaction object back into its canonical bytes — legacy RLP, or EIP-2718 type byte and RLP for types 1
/// (EIP-2930), 2 (EIP-1559), 3 (EIP-4844) and 4 (EIP-7702) — and each withdrawal object into a
/// <see cref="Withdrawal"/>. The caller compares keccak256 of the bytes with the transaction's <c>hash</c>: that is
/// what proves the rebuild (and the node) right.
/// </summary>
internal static class RpcBodyJson
{
    /// <summary>The transaction's canonical bytes and the hash the node claims for them; false with the first bad field.</summary>
    public static bool TryEncodeTransaction(
        JsonElement tx,
        [NotNullWhen(true)] out byte[]? encoded,
        out Hash256 claimedHash,
        [NotNullWhen(false)] out string? error)
    {
        encoded = null;
        claimedHash = default;
        if (tx.ValueKind != JsonValueKind.Object)
        {
            error = $"a full transaction is a JSON object, got {tx.ValueKind}";
            return false;
        }
        var f = new RpcJsonFields(tx);
        claimedHash = f.Hash("hash");
        var type = f.Has("type") ? f.Quantity("type") : Transactions.Legacy;
        if (f.Error is not null)
        {
            error = f.Error;
            return false;
        }
        var fields = new List<byte[]>(14);
        if (type != Transactions.Legacy)
        {
            fields.Add(Int(f.BigQuantity("chainId")));
        }
        fields.Add(Int(f.BigQuantity("nonce")));
        if (type is Transactions.Legacy or Transactions.AccessList)
        {
            fields.Add(Int(f.BigQuantity("gasPrice")));
        }
        else if (type is Transactions.DynamicFee or Transactions.Blob or Transactions.SetCode)
        {
            fields.Add(Int(f.BigQuantity("maxPriorityFeePerGas")));
            fields.Add(Int(f.BigQuantity("maxFeePerGas")));
        }
        else
        {
            error = $"transaction type {type} is not one this node knows (0 to 4)";
            return false;
        }
        fields.Add(Int(f.BigQuantity("gas")));
        fields.Add(RlpWriter.EncodeBytes(f.Has("to") ? f.Address("to").Bytes : []));
        fields.Add(Int(f.BigQuantity("value")));
        fields.Add(RlpWriter.EncodeBytes(f.Data(f.Has("input") || !f.Has("data") ? "input" : "data")));
        if (type == Transactions.Legacy)
        {
            // v carries the chain id since EIP-155 (chainId × 2 + 35 + parity), so it can exceed 64 bits.
            fields.Add(Int(f.BigQuantity("v")));
        }
        else
        {
            fields.Add(AccessList(f));
            if (type == Transactions.Blob)
            {
                fields.Add(Int(f.BigQuantity("maxFeePerBlobGas")));
                var hashes = f.Array("blobVersionedHashes");
                var items = new List<byte[]>(hashes.Count);
                foreach (var hash in hashes)
                {
                    items.Add(Hash256.TryParse(hash.ValueKind == JsonValueKind.String ? hash.GetString() : null, out var h)
                        ? RlpWriter.EncodeBytes(h.Bytes)
                        : Fail(f, "blobVersionedHashes", "an entry is not a 32-byte hex hash"));
                }
                fields.Add(List(items));
            }
            if (type == Transactions.SetCode)
            {
                fields.Add(AuthorizationList(f));
            }
            fields.Add(Int(YParity(f)));
        }
        fields.Add(Int(f.BigQuantity("r")));
        fields.Add(Int(f.BigQuantity("s")));
        if (f.Error is not null)
        {
            error = f.Error;
            return false;
        }
        var list = List(fields);
        encoded = type == Transactions.Legacy ? list : [(byte)type, .. list];
        error = null;
        return true;
    }

    /// <summary>The withdrawals of a block object, or null where the block has none (before Shanghai).</summary>
    public static bool TryReadWithdrawals(JsonElement block, out IReadOnlyList<Withdrawal>? withdrawals, [NotNullWhen(false)] out string? error)
    {
        withdrawals = null;
        error = null;
        var blockFields = new RpcJsonFields(block);
        if (!blockFields.Has("withdrawals"))
        {
            return true;
        }
        var items = blockFields.Array("withdrawals");
        var list = new List<Withdrawal>(items.Count);
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                error = "a withdrawal is not a JSON object";
                return false;
            }
            var f = new RpcJsonFields(item);
            var withdrawal = new Withdrawal(f.Quantity("index"), f.Quantity("validatorIndex"), f.Address("address"), f.Quantity("amount"));
            if (f.Error is not null)
            {
                error = $"withdrawal {list.Count}: {f.Error}";
                return false;
            }
            list.Add(withdrawal);
        }
        error = blockFields.Error;
        withdrawals = list;
        return error is null;
    }

    private static BigInteger YParity(RpcJsonFields f) =>
        f.BigQuantity(f.Has("yParity") || !f.Has("v") ? "yParity" : "v");

    /// <summary>EIP-2930: [[address, [storageKey, ...]], ...].</summary>
    private static byte[] AccessList(RpcJsonFields f)
    {
        var entries = f.Array("accessList");
        var items = new List<byte[]>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                return Fail(f, "accessList", "an entry is not a JSON object");
            }
            var e = new RpcJsonFields(entry);
            var address = e.Address("address");
            var keys = e.Array("storageKeys");
            var encodedKeys = new List<byte[]>(keys.Count);
            foreach (var key in keys)
            {
                encodedKeys.Add(Hash256.TryParse(key.ValueKind == JsonValueKind.String ? key.GetString() : null, out var k)
                    ? RlpWriter.EncodeBytes(k.Bytes)
                    : Fail(f, "accessList", "a storage key is not a 32-byte hex hash"));
            }
            if (e.Error is not null)
            {
                return Fail(f, "accessList", e.Error);
            }
            items.Add(List([RlpWriter.EncodeBytes(address.Bytes), List(encodedKeys)]));
        }
        return List(items);
    }

    /// <summary>EIP-7702: [[chainId, address, nonce, yParity, r, s], ...].</summary>
    private static byte[] AuthorizationList(RpcJsonFields f)
    {
        var entries = f.Array("authorizationList");
        var items = new List<byte[]>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                return Fail(f, "authorizationList", "an entry is not a JSON object");
            }
            var a = new RpcJsonFields(entry);
            byte[] tuple = List(
            [
                Int(a.BigQuantity("chainId")),
                RlpWriter.EncodeBytes(a.Address("address").Bytes),
                Int(a.BigQuantity("nonce")),
                Int(YParity(a)),
                Int(a.BigQuantity("r")),
                Int(a.BigQuantity("s")),
            ]);
            if (a.Error is not null)
            {
                return Fail(f, "authorizationList", a.Error);
            }
            items.Add(tuple);
        }
        return List(items);
    }

    private static byte[] Fail(RpcJsonFields f, string name, string why)
    {
        f.Fail(name, why);
        return [];
    }

    /// <summary>An RLP integer: big-endian bytes without leading zeros, zero as the empty string.</summary>
    private static byte[] Int(BigInteger value) =>
        RlpWriter.EncodeBytes(value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true));

    private static byte[] List(IReadOnlyList<byte[]> encodedItems)
    {
        var payload = 0;
        foreach (var item in encodedItems)
        {
            payload += item.Length;
        }
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        foreach (var item in encodedItems)
        {
            writer.WriteRaw(item);
        }
        return output;
    }
}
