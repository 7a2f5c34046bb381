using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Testing.Chains;

/// <summary>
/// Deterministic post-merge header chains for sync tests: minimal Shanghai-shaped headers (difficulty 0, no
/// transactions) linked by parent hash, each hashed once. Index i holds block i; index 0 is a genesis with a zero
/// parent. A million headers take a few seconds. Only the hash links mean anything: the headers are not meant to
/// pass <c>BlockValidator</c>.
/// </summary>
public static class TestChains
{
    private const ulong GenesisTimestamp = 1_700_000_000;
    private const ulong SlotSeconds = 12;

    private static readonly byte[] EmptyBloom = new byte[BlockHeader.LogsBloomSize];

    /// <summary>Blocks 0..<paramref name="length"/>−1.</summary>
    public static BlockHeader[] Linear(int length) => Build([], length, forkAt: 0, tag: []);

    /// <summary>
    /// A chain of the same length as <paramref name="chain"/> that shares its blocks below
    /// <paramref name="forkAt"/> and differs from there on (extraData <paramref name="tag"/>, as geth's tests fork
    /// with Extra "B"): block <paramref name="forkAt"/> is a sibling of <c>chain[forkAt]</c>.
    /// </summary>
    public static BlockHeader[] Fork(BlockHeader[] chain, int forkAt, string tag = "B")
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(forkAt);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(forkAt, chain.Length);
        return Build(chain, chain.Length, forkAt, System.Text.Encoding.ASCII.GetBytes(tag));
    }

    /// <summary>A lookup over <paramref name="headers"/> by number, as the skeleton rules take it.</summary>
    public static Func<ulong, BlockHeader?> Lookup(params BlockHeader[] headers)
    {
        var byNumber = headers.ToDictionary(h => h.Number);
        return number => byNumber.GetValueOrDefault(number);
    }

    private static BlockHeader[] Build(BlockHeader[] shared, int length, int forkAt, byte[] tag)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var headers = new BlockHeader[length];
        Array.Copy(shared, headers, forkAt);
        var parent = forkAt == 0 ? Hash256.Zero : headers[forkAt - 1].Hash;
        for (var i = forkAt; i < length; i++)
        {
            var number = (ulong)i;
            headers[i] = new BlockHeader
            {
                ParentHash = parent,
                LogsBloom = EmptyBloom,
                Number = number,
                GasLimit = 30_000_000,
                Timestamp = GenesisTimestamp + (number * SlotSeconds),
                ExtraData = tag,
                BaseFeePerGas = 1_000_000_000,
                WithdrawalsRoot = Keccak256.EmptyTrieRoot,
            };
            parent = headers[i].Hash;
        }
        return headers;
    }
}
