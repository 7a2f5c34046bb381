using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Sync.Tests.TestDoubles;

public sealed class GeneratedChainTests
{
    /// <summary>Every fork through Prague active from the generated genesis on.</summary>
    internal static readonly ChainSpec AllForks = new()
    {
        Name = "generated",
        ChainId = 1337,
        GenesisHash = GeneratedChain.DefaultGenesis.Hash,
        LondonBlock = 0,
        MergeBlock = 0,
        ShanghaiTime = 0,
        CancunTime = 0,
        PragueTime = 0,
        BlobSchedule = [(0, BlobParameters.Cancun), (0, BlobParameters.Prague)],
    };

    [Fact]
    public void Headers_are_indexed_by_number_and_linked_by_parent_hash()
    {
        var chain = GeneratedChain.Headers(300, seed: 1);

        Assert.Equal(300, chain.Count);
        Assert.Equal(GeneratedChain.DefaultGenesis, chain[0]);
        for (var n = 1; n < chain.Count; n++)
        {
            Assert.Equal((ulong)n, chain[n].Number);
            Assert.Equal(chain[n - 1].Hash, chain[n].ParentHash);
        }
    }

    [Fact]
    public void Generated_blocks_pass_the_stateless_rules_with_empty_bodies()
    {
        // 300 blocks cover the base fee's fall from 1 gwei to its resting value and beyond.
        var chain = GeneratedChain.Headers(300, seed: 2);
        var validator = new BlockValidator(AllForks);

        for (var n = 1; n < chain.Count; n++)
        {
            var result = validator.Validate(new Block(chain[n], GeneratedChain.EmptyBody), chain[n - 1]);
            Assert.True(result.IsValid, $"#{n}: {result.Error}");
        }
        Assert.Equal((BigInteger?)7, chain[^1].BaseFeePerGas); // 7 − ⌊7/8⌋ = 7: an empty chain's base fee stops falling at 7 wei
    }

    [Fact]
    public void Blocks_with_every_transaction_type_blobs_and_withdrawals_pass_the_stateless_rules()
    {
        // 300 blocks: several bursts of blob-heavy blocks (32 each) and the quiet runs after them.
        var chain = GeneratedChain.Headers(300, seed: 7, bodies: BodyProfile.Mixed);
        var bodies = GeneratedChain.Bodies(chain);
        var validator = new BlockValidator(AllForks);
        var types = new HashSet<byte>();
        var blobs = 0;
        var withdrawals = 0;

        for (var n = 1; n < chain.Count; n++)
        {
            var body = bodies[n]!;
            var result = validator.Validate(new Block(chain[n], body), chain[n - 1]);
            Assert.True(result.IsValid, $"#{n}: {result.Error}");
            foreach (var tx in body.Transactions)
            {
                Assert.True(Transactions.TryGetType(tx, out var type));
                types.Add(type);
                Assert.True(Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out _));
                blobs += hashes.Count;
            }
            withdrawals += body.Withdrawals!.Count;
        }

        Assert.Equal([Transactions.Legacy, Transactions.AccessList, Transactions.DynamicFee, Transactions.Blob, Transactions.SetCode], types.Order());
        Assert.True(blobs > 300, $"{blobs} blobs");
        Assert.True(withdrawals > 300, $"{withdrawals} withdrawals");
        Assert.Contains(chain, h => h.ExcessBlobGas > 0); // the bursts push excessBlobGas up ...
        Assert.Contains(chain.Skip(1), h => h.ExcessBlobGas == 0 && h.Number > 100); // ... and it falls back to zero
        Assert.Contains(chain, h => h.GasUsed > 0 && h.TransactionsRoot != Keccak256.EmptyTrieRoot);
        Assert.Equal(bodies[123], GeneratedChain.Bodies(GeneratedChain.Headers(300, seed: 7, bodies: BodyProfile.Mixed))[123]);
    }

    [Fact]
    public void A_fork_of_a_chain_with_bodies_carries_bodies_that_pass_the_stateless_rules()
    {
        var chain = GeneratedChain.Headers(100, seed: 8, bodies: BodyProfile.Mixed);
        var fork = GeneratedChain.Fork(chain, 60, length: 50, seed: 1);
        var bodies = GeneratedChain.Bodies(fork);
        var validator = new BlockValidator(AllForks);

        Assert.Equal(GeneratedChain.Bodies(chain)[60], bodies[60]);
        for (var n = 61; n < fork.Count; n++)
        {
            var result = validator.Validate(new Block(fork[n], bodies[n]!), fork[n - 1]);
            Assert.True(result.IsValid, $"#{n}: {result.Error}");
        }
        Assert.NotEqual(chain[61].TransactionsRoot, fork[61].TransactionsRoot);
    }

    [Fact]
    public void Mainnet_sized_blocks_carry_about_150_transactions_and_100_kb()
    {
        var chain = GeneratedChain.Headers(65, seed: 3, bodies: BodyProfile.Mainnet);
        var bodies = GeneratedChain.Bodies(chain);
        var validator = new BlockValidator(AllForks);

        var sizes = new List<int>();
        var counts = new List<int>();
        for (var n = 1; n < chain.Count; n++)
        {
            Assert.True(validator.Validate(new Block(chain[n], bodies[n]!), chain[n - 1]).IsValid, $"#{n}");
            if (bodies[n]!.Transactions.Count > 0)
            {
                sizes.Add(bodies[n]!.Encode().Length);
                counts.Add(bodies[n]!.Transactions.Count);
            }
        }

        Assert.InRange(counts.Average(), 130, 175);
        Assert.InRange(sizes.Average(), 80_000, 130_000);
    }

    [Theory]
    [InlineData("the same seed gives the same chain", 5UL, 5UL, true)]
    [InlineData("another seed gives another chain", 5UL, 6UL, false)]
    public void Chains_are_deterministic_by_seed(string proves, ulong seedA, ulong seedB, bool same)
    {
        Assert.NotEmpty(proves);
        var a = GeneratedChain.Headers(50, seedA);
        var b = GeneratedChain.Headers(50, seedB);

        Assert.Equal(a[0].Hash, b[0].Hash); // one genesis for every seed
        Assert.Equal(same, a[1].Hash == b[1].Hash);
        Assert.Equal(same, a[^1].Hash == b[^1].Hash);
    }

    [Theory]
    [InlineData("a fork from the genesis shares only the genesis", 0UL)]
    [InlineData("a fork in the middle shares everything up to its fork point", 40UL)]
    [InlineData("a fork at the head only extends it differently", 99UL)]
    public void Forks_share_the_prefix_and_diverge_after_it(string proves, ulong atNumber)
    {
        Assert.NotEmpty(proves);
        var chain = GeneratedChain.Headers(100, seed: 9);

        // Same seed on purpose: the fork must differ anyway.
        var fork = GeneratedChain.Fork(chain, atNumber, length: 80, seed: 9);

        Assert.Equal((int)atNumber + 1 + 80, fork.Count);
        Assert.Equal(chain[(int)atNumber].Hash, fork[(int)atNumber].Hash);
        Assert.Equal(chain[(int)atNumber].Hash, fork[(int)atNumber + 1].ParentHash);
        if ((int)atNumber + 1 < chain.Count)
        {
            Assert.NotEqual(chain[(int)atNumber + 1].Hash, fork[(int)atNumber + 1].Hash);
        }
        for (var n = (int)atNumber + 1; n < fork.Count; n++)
        {
            Assert.Equal((ulong)n, fork[n].Number);
            Assert.Equal(fork[n - 1].Hash, fork[n].ParentHash);
        }
    }

    [Fact]
    public void A_given_genesis_roots_the_chain()
    {
        var genesis = GeneratedChain.DefaultGenesis with { Timestamp = 1, GasLimit = 30_000_000 };

        var chain = GeneratedChain.Headers(3, genesis: genesis);

        Assert.Equal(genesis.Hash, chain[1].ParentHash);
        Assert.Equal(1 + GeneratedChain.BlockTime, chain[1].Timestamp);
        Assert.Throws<ArgumentException>(() => GeneratedChain.Headers(3, genesis: genesis with { Number = 1 }));
    }
}
