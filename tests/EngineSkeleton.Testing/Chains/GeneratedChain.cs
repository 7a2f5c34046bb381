using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;
using EngineSkeleton.Core.Validation;

namespace EngineSkeleton.Testing.Chains;

/// <summary>
/// Deterministic header chains for tests and benchmarks: post-merge, Prague-shaped headers of empty blocks, linked
/// by parent hash, indexed by number (index 0 is the genesis). The same seed gives the same chain; different
/// seeds give different chains on the same genesis.
/// <para>
/// The lists are lazy: generation hashes every header once to learn the parent hashes and keeps only those
/// (32 bytes a header), and each read builds the header again from its number and parent hash. A 1,000,000-header
/// chain so costs ~32 MB instead of ~600 MB of header objects, which keeps it out of the sync's memory
/// measurements. Reads return equal but distinct objects, whose hash is computed again when asked for, as for
/// a header decoded off the wire.
/// </para>
/// <para>
/// Each generated header follows its parent by the stateless rules of docs/trust.md (checked in tests against a spec
/// with every fork through Prague at genesis) when the base header is post-merge with no blob gas, as
/// <see cref="DefaultGenesis"/> is: timestamps 12 s apart, the same gas limit, no gas used, the EIP-1559 base fee of
/// an empty parent, no blob gas, empty transaction/receipt/withdrawal roots and the empty requests hash; so
/// <see cref="EmptyBody"/> is every generated block's body.
/// </para>
/// <para>
/// Given a <see cref="BodyProfile"/>, blocks carry transactions of every type, blobs and withdrawals instead, and each
/// header commits to its body (transactionsRoot, withdrawalsRoot, gasUsed, blobGasUsed) and follows its parent's
/// (base fee by EIP-1559, excessBlobGas by EIP-4844 under the profile's blob parameters); <see cref="Bodies"/> gives
/// them. Generation builds every body once to learn its roots and keeps ~100 bytes a block; bodies are built again,
/// from the seed and number, on each read.
/// </para>
/// </summary>
public static class GeneratedChain
{
    /// <summary>Seconds between generated blocks: the beacon chain's slot time.</summary>
    public const ulong BlockTime = 12;

    /// <summary>The body of every generated block: no transactions, ommers or withdrawals.</summary>
    public static readonly BlockBody EmptyBody = new([], [], []);

    /// <summary>
    /// The genesis used when none is given, the same for every seed: a Prague-shaped header with a 36M gas limit
    /// and the EIP-1559 initial base fee.
    /// </summary>
    public static readonly BlockHeader DefaultGenesis = new()
    {
        StateRoot = Hash256.FromHex("0x" + new string('5', 64)),
        LogsBloom = new byte[BlockHeader.LogsBloomSize],
        GasLimit = 36_000_000,
        Timestamp = 1_750_000_000,
        ExtraData = "EngineSkeleton"u8.ToArray(),
        BaseFeePerGas = BaseFee.Initial,
        WithdrawalsRoot = Keccak256.EmptyTrieRoot,
        BlobGasUsed = 0,
        ExcessBlobGas = 0,
        ParentBeaconBlockRoot = Hash256.Zero,
        RequestsHash = ExecutionRequests.EmptyHash,
    };

    /// <summary>
    /// A chain of <paramref name="count"/> headers, numbers 0 to count − 1: <paramref name="genesis"/> (or
    /// <see cref="DefaultGenesis"/>) and count − 1 generated descendants.
    /// </summary>
    /// <param name="count">Headers, the genesis included.</param>
    /// <param name="seed">Different seeds give different chains.</param>
    /// <param name="genesis">Block 0; <see cref="DefaultGenesis"/> if null.</param>
    /// <param name="bodies">What blocks carry; empty bodies if null.</param>
    public static IReadOnlyList<BlockHeader> Headers(ulong count, ulong seed = 0, BlockHeader? genesis = null, BodyProfile? bodies = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(count);
        genesis ??= DefaultGenesis;
        if (genesis.Number != 0)
        {
            throw new ArgumentException($"a genesis is block 0, not #{genesis.Number}", nameof(genesis));
        }
        return new GeneratedHeaders([genesis], 0, count - 1, BranchKey(seed, 0), [], bodies);
    }

    /// <summary>
    /// A side chain of <paramref name="chain"/>: the same headers up to <paramref name="atNumber"/> (shared, not
    /// copied), then <paramref name="length"/> generated headers. They differ from those of any
    /// <see cref="Headers"/> chain whatever the seeds, as their extraData says "fork"; forks at one point differ by
    /// seed. Indexed by number like the original; atNumber + 1 + length long. Blocks carry bodies of the original's
    /// <see cref="BodyProfile"/>, if it was generated with one.
    /// </summary>
    public static IReadOnlyList<BlockHeader> Fork(IReadOnlyList<BlockHeader> chain, ulong atNumber, ulong length, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(atNumber, (ulong)chain.Count);
        return new GeneratedHeaders(chain, atNumber, length, BranchKey(seed, atNumber + 1), ForkExtraData, (chain as GeneratedHeaders)?.Profile);
    }

    /// <summary>
    /// A side chain like <see cref="Fork"/> in which the header at <paramref name="badAt"/> breaks one stateless rule
    /// (its base fee is one wei above EIP-1559's) while every hash still links: its descendants name it as parent.
    /// A sync must find it only by validating, as with a peer serving a chain the beacon node never attested.
    /// </summary>
    public static IReadOnlyList<BlockHeader> ForkWithBadHeader(IReadOnlyList<BlockHeader> chain, ulong atNumber, ulong length, ulong seed, ulong badAt)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(atNumber, (ulong)chain.Count);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(badAt, atNumber);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(badAt, atNumber + length);
        return new GeneratedHeaders(chain, atNumber, length, BranchKey(seed, atNumber + 1), ForkExtraData, (chain as GeneratedHeaders)?.Profile, badAt);
    }

    /// <summary>
    /// The fork rules <paramref name="chain"/>'s headers follow, for a validator of it: London, Shanghai, Cancun and
    /// Prague from its genesis, the blob parameters of its <see cref="BodyProfile"/> (Prague's for empty bodies, which
    /// carry no blobs). Only the base fee and excessBlobGas formulas depend on them.
    /// </summary>
    public static ChainSpec SpecFor(IReadOnlyList<BlockHeader> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        return Rules(chain[0].Hash, chain is GeneratedHeaders generated ? generated.Profile : null);
    }

    private static ChainSpec Rules(Hash256 genesisHash, BodyProfile? profile) => new()
    {
        Name = "generated",
        ChainId = 1,
        GenesisHash = genesisHash,
        LondonBlock = 0,
        ShanghaiTime = 0,
        CancunTime = 0,
        PragueTime = 0,
        BlobSchedule = (profile is null ? BlobParameters.Prague : profile.Blobs) is { } blobs ? [(0, blobs)] : [],
    };

    /// <summary>
    /// A body for every block of <paramref name="chain"/>, the ones its headers commit to: built on each read for a
    /// chain generated with a <see cref="BodyProfile"/>, else <see cref="EmptyBody"/> throughout.
    /// </summary>
    public static IReadOnlyList<BlockBody?> Bodies(IReadOnlyList<BlockHeader> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        return chain is GeneratedHeaders { Profile: not null } generated
            ? new BodyList(generated)
            : new Repeated<BlockBody?>(EmptyBody, chain.Count);
    }

    private static readonly byte[] ForkExtraData = "fork"u8.ToArray();

    private static ulong BranchKey(ulong seed, ulong branch)
    {
        var state = seed ^ (branch * 0xD1B54A32D192ED03UL);
        return SplitMix64(ref state);
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit sequence from any state.</summary>
    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A prefix of headers, then <c>generated</c> headers rebuilt on demand from their parent hashes.</summary>
    private sealed class GeneratedHeaders : IReadOnlyList<BlockHeader>
    {
        private static readonly byte[] EmptyBloom = new byte[BlockHeader.LogsBloomSize];

        private readonly IReadOnlyList<BlockHeader> _prefix;
        private readonly BlockHeader _base;
        private readonly ulong _baseNumber;
        private readonly ulong _key;
        private readonly byte[] _extraData;
        private readonly Address _beneficiary;

        // _hashes[k] is the hash of block _baseNumber + k; the parent hash of every generated header.
        private readonly Hash256[] _hashes;

        // _baseFees[k] is the base fee of block _baseNumber + k for k ≥ 1, until it stops moving; then the last.
        // Empty bodies only; with a profile, _derived holds every header field that depends on the bodies.
        private readonly BigInteger[] _baseFees;

        // The one block whose base fee is made wrong (ForkWithBadHeader); null for a valid chain.
        private readonly ulong? _badAt;

        // _derived[k]: the body-dependent fields of block _baseNumber + k, for k ≥ 1; null without a profile.
        private readonly Derived[]? _derived;

        public GeneratedHeaders(IReadOnlyList<BlockHeader> prefix, ulong baseNumber, ulong generated, ulong key, byte[] extraData, BodyProfile? profile, ulong? badAt = null)
        {
            _badAt = badAt;
            if (baseNumber + generated >= int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(generated), "a generated chain is indexed by int");
            }
            _prefix = prefix;
            _base = prefix[(int)baseNumber];
            _baseNumber = baseNumber;
            _key = key;
            _extraData = extraData;
            _beneficiary = new Address(Field(0, 0).Bytes[..Address.Size]);
            _baseFees = BaseFees(_base);
            Profile = profile;
            Count = (int)(baseNumber + 1 + generated);

            _hashes = new Hash256[generated + 1];
            _hashes[0] = _base.Hash;
            if (profile is not null)
            {
                _derived = new Derived[generated + 1];
                var rules = Rules(prefix[0].Hash, profile);
                var parent = _base;
                for (var k = 1UL; k <= generated; k++)
                {
                    var number = baseNumber + k;
                    var made = GeneratedBodies.Make(profile, _key, number, _base.GasLimit);
                    _derived[k] = new Derived(
                        TrieRoots.OfList(made.Body.Transactions),
                        TrieRoots.OfWithdrawals(made.Body.Withdrawals!),
                        made.GasUsed,
                        made.BlobGasUsed,
                        parent.BaseFeePerGas is null ? BaseFee.Initial : BaseFee.For(rules, parent),
                        profile.Blobs is null || parent.ExcessBlobGas is null ? 0 : BlobGas.ExcessFor(rules, parent, _base.Timestamp + (k * BlockTime)));
                    parent = Make(number, _hashes[k - 1]);
                    _hashes[k] = parent.Hash;
                }
                return;
            }
            for (var k = 1UL; k <= generated; k++)
            {
                _hashes[k] = Make(baseNumber + k, _hashes[k - 1]).Hash;
            }
        }

        public int Count { get; }

        /// <summary>What the generated blocks carry; null for empty bodies.</summary>
        public BodyProfile? Profile { get; }

        /// <summary>The body of block <paramref name="number"/>, built again from the seed.</summary>
        public BlockBody Body(ulong number)
        {
            if (number <= _baseNumber)
            {
                return _prefix is GeneratedHeaders generated ? generated.Body(number) : EmptyBody;
            }
            return Profile is null ? EmptyBody : GeneratedBodies.Make(Profile, _key, number, _base.GasLimit).Body;
        }

        public BlockHeader this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                var number = (ulong)index;
                return number <= _baseNumber ? _prefix[index] : Make(number, _hashes[number - _baseNumber - 1]);
            }
        }

        public IEnumerator<BlockHeader> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        /// <summary>Base fees of empty blocks after <paramref name="parent"/> (EIP-1559: −⅛ each), until the fee stops falling.</summary>
        private static BigInteger[] BaseFees(BlockHeader parent)
        {
            // Index 0 is unused (the base header has its own); a parent without a base fee makes the next block
            // London's first, which starts at the initial base fee.
            var fees = new List<BigInteger> { BigInteger.Zero };
            var fee = parent.BaseFeePerGas is { } parentFee ? Next(parentFee) : BaseFee.Initial;
            while (true)
            {
                fees.Add(fee);
                var next = Next(fee);
                if (next == fee)
                {
                    return [.. fees];
                }
                fee = next;
            }

            BigInteger Next(BigInteger value) =>
                parent.GasLimit / BaseFee.ElasticityMultiplier == 0 ? value : value - (value / 8);
        }

        private BlockHeader Make(ulong number, Hash256 parentHash)
        {
            var k = number - _baseNumber;
            if (_derived is not null)
            {
                var derived = _derived[k];
                return new BlockHeader
                {
                    ParentHash = parentHash,
                    Beneficiary = _beneficiary,
                    StateRoot = Field(number, 1),
                    TransactionsRoot = derived.TransactionsRoot,
                    LogsBloom = EmptyBloom,
                    Number = number,
                    GasLimit = _base.GasLimit,
                    GasUsed = derived.GasUsed,
                    Timestamp = _base.Timestamp + (k * BlockTime),
                    ExtraData = _extraData,
                    MixHash = Field(number, 2),
                    BaseFeePerGas = derived.BaseFee + (number == _badAt ? 1 : 0),
                    WithdrawalsRoot = derived.WithdrawalsRoot,
                    BlobGasUsed = derived.BlobGasUsed,
                    ExcessBlobGas = derived.ExcessBlobGas,
                    ParentBeaconBlockRoot = Field(number, 3),
                    RequestsHash = ExecutionRequests.EmptyHash,
                };
            }
            return new BlockHeader
            {
                ParentHash = parentHash,
                Beneficiary = _beneficiary,
                StateRoot = Field(number, 1),
                LogsBloom = EmptyBloom,
                Number = number,
                GasLimit = _base.GasLimit,
                Timestamp = _base.Timestamp + (k * BlockTime),
                ExtraData = _extraData,
                MixHash = Field(number, 2),
                BaseFeePerGas = _baseFees[(int)Math.Min(k, (ulong)_baseFees.Length - 1)] + (number == _badAt ? 1 : 0),
                WithdrawalsRoot = Keccak256.EmptyTrieRoot,
                BlobGasUsed = 0,
                ExcessBlobGas = 0,
                ParentBeaconBlockRoot = Field(number, 3),
                RequestsHash = ExecutionRequests.EmptyHash,
            };
        }

        /// <summary>32 pseudo-random bytes for one field of one block of this branch.</summary>
        private Hash256 Field(ulong number, ulong tag)
        {
            Span<byte> bytes = stackalloc byte[Hash256.Size];
            var state = _key ^ (number * 0x9E3779B97F4A7C15UL) ^ (tag << 58);
            for (var i = 0; i < Hash256.Size; i += sizeof(ulong))
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[i..], SplitMix64(ref state));
            }
            return new Hash256(bytes);
        }
    }

    /// <summary>The header fields of a block that follow from its body and its parent's.</summary>
    private readonly record struct Derived(
        Hash256 TransactionsRoot, Hash256 WithdrawalsRoot, ulong GasUsed, ulong BlobGasUsed, BigInteger BaseFee, ulong ExcessBlobGas);

    /// <summary>The bodies of a generated chain, each built on read.</summary>
    private sealed class BodyList(GeneratedHeaders chain) : IReadOnlyList<BlockBody?>
    {
        public int Count => chain.Count;

        public BlockBody? this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                return chain.Body((ulong)index);
            }
        }

        public IEnumerator<BlockBody?> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class Repeated<T>(T value, int count) : IReadOnlyList<T>
    {
        public int Count { get; } = count;

        public T this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                return value;
            }
        }

        public IEnumerator<T> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return value;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
