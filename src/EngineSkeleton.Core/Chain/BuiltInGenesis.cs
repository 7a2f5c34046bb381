using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Chain;

/// <summary>
/// Genesis headers of the built-in networks, from their published fields (state roots as the clients publish them,
/// so the alloc need not be shipped). Tests check that each hashes to <see cref="ChainSpec.GenesisHash"/>.
/// </summary>
public static class BuiltInGenesis
{
    public static BlockHeader For(ChainSpec spec) => spec.Name switch
    {
        "mainnet" => Mainnet,
        "sepolia" => Sepolia,
        "hoodi" => Hoodi,
        _ => throw new ArgumentException($"{spec.Name} is not a built-in network", nameof(spec)),
    };

    private static BlockHeader Empty(string stateRoot) => new()
    {
        ParentHash = Hash256.Zero,
        OmmersHash = Keccak256.OfEmptyList,
        Beneficiary = Address.Zero,
        StateRoot = Hash256.FromHex(stateRoot),
        TransactionsRoot = Keccak256.EmptyTrieRoot,
        ReceiptsRoot = Keccak256.EmptyTrieRoot,
        LogsBloom = new byte[256],
        Difficulty = 0,
        Number = 0,
        GasLimit = 0,
        GasUsed = 0,
        Timestamp = 0,
        ExtraData = [],
        MixHash = Hash256.Zero,
        Nonce = 0,
    };

    public static BlockHeader Mainnet { get; } = Empty("0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544") with
    {
        Difficulty = 17_179_869_184,
        GasLimit = 5_000,
        ExtraData = Hex.Decode("0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa"),
        Nonce = 0x42,
    };

    public static BlockHeader Sepolia { get; } = Empty("0x5eb6e371a698b8d68f665192350ffcecbbbf322916f4b51bd79bb6887da3f494") with
    {
        Difficulty = 131_072,
        GasLimit = 30_000_000,
        Timestamp = 0x6159af19,
        ExtraData = "Sepolia, Athens, Attica, Greece!"u8.ToArray(),
        BaseFeePerGas = new BigInteger(1_000_000_000),
    };

    public static BlockHeader Hoodi { get; } = Empty("0xda87d7f5f91c51508791bbcbd4aa5baf04917830b86985eeb9ad3d5bfb657576") with
    {
        Difficulty = 1,
        GasLimit = 0x2255100,
        Timestamp = 0x67d80ec0,
        Nonce = 0x1234,
        BaseFeePerGas = new BigInteger(1_000_000_000),
        WithdrawalsRoot = Keccak256.EmptyTrieRoot,
        BlobGasUsed = 0,
        ExcessBlobGas = 0,
        ParentBeaconBlockRoot = Hash256.Zero,
    };
}
