using System.Globalization;
using System.Numerics;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Trie;

public sealed class StateRootsTests
{
    /// <summary>
    /// genesis.json gives no state root, but block 1 names the genesis hash as its parent: building the genesis
    /// header with the state root of the alloc and hashing it must give exactly that hash. This proves the
    /// secure trie, the account and storage encodings, and the Frontier header shape at once.
    /// </summary>
    [Fact]
    public void Genesis_alloc_state_root_gives_the_genesis_hash_block_1_points_to()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestData.PathOf("genesis.json")));
        var genesis = json.RootElement;
        var accounts = genesis.GetProperty("alloc").EnumerateObject().Select(ParseAccount).ToList();
        Assert.Contains(accounts, a => a.Storage.Count > 0);
        Assert.Contains(accounts, a => a.Code.Length > 0);

        var header = new BlockHeader
        {
            ParentHash = Hash256.Zero,
            Beneficiary = Address.FromHex(genesis.GetProperty("coinbase").GetString()!),
            StateRoot = StateRoots.OfAccounts(accounts),
            LogsBloom = new byte[BlockHeader.LogsBloomSize],
            Difficulty = Quantity(genesis.GetProperty("difficulty")),
            Number = 0,
            GasLimit = (ulong)Quantity(genesis.GetProperty("gasLimit")),
            Timestamp = (ulong)Quantity(genesis.GetProperty("timestamp")),
            ExtraData = Hex.Decode(genesis.GetProperty("extraData").GetString()!),
            MixHash = Hash256.FromHex(genesis.GetProperty("mixHash").GetString()!),
            Nonce = (ulong)Quantity(genesis.GetProperty("nonce")),
        };

        Assert.Equal(TestData.Chain[0].Header.ParentHash, header.Hash);
    }

    [Fact]
    public void Zero_storage_values_are_absent_and_leading_zeros_do_not_count()
    {
        var address = new Address(new byte[20]);
        var slot = new Hash256(Enumerable.Repeat((byte)1, 32).ToArray());
        var one = new Hash256([.. new byte[31], 1]);
        var empty = new AccountEntry(address, 0, 1, [], new Dictionary<Hash256, Hash256>());
        var zeroSlot = empty with { Storage = new Dictionary<Hash256, Hash256> { [slot] = Hash256.Zero } };
        var oneSlot = empty with { Storage = new Dictionary<Hash256, Hash256> { [slot] = one } };

        Assert.Equal(StateRoots.OfAccounts([empty]), StateRoots.OfAccounts([zeroSlot]));
        Assert.NotEqual(StateRoots.OfAccounts([empty]), StateRoots.OfAccounts([oneSlot]));
        Assert.Equal(Keccak256.EmptyTrieRoot, StateRoots.OfAccounts([]));
    }

    private static AccountEntry ParseAccount(JsonProperty entry)
    {
        var account = entry.Value;
        var storage = new Dictionary<Hash256, Hash256>();
        if (account.TryGetProperty("storage", out var slots))
        {
            foreach (var slot in slots.EnumerateObject())
            {
                storage[Word(slot.Name)] = Word(slot.Value.GetString()!);
            }
        }
        return new AccountEntry(
            Address.FromHex(Prefixed(entry.Name)),
            account.TryGetProperty("nonce", out var nonce) ? (ulong)Quantity(nonce) : 0,
            Quantity(account.GetProperty("balance")),
            account.TryGetProperty("code", out var code) ? Hex.Decode(code.GetString()!) : [],
            storage);
    }

    /// <summary>geth's genesis quantities: 0x-hex or decimal.</summary>
    private static BigInteger Quantity(JsonElement value)
    {
        var text = value.GetString()!;
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? BigInteger.Parse("0" + text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : BigInteger.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>A storage key or value: hex of up to 32 bytes, left-padded as geth reads a common.Hash.</summary>
    private static Hash256 Word(string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        return Hash256.FromHex("0x" + digits.PadLeft(64, '0'));
    }

    private static string Prefixed(string hex) => hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex : "0x" + hex;
}
