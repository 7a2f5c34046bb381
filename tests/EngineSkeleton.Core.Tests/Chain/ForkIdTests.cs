using System.Buffers.Binary;
using System.IO.Hashing;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Core.Tests.Chain;

/// <summary>
/// EIP-2124 fork ids: the EIP's own vectors (mainnet by block number, Petersburg being the last fork when it was
/// written), and go-ethereum's core/forkid tables (forkid_test.go at 02b73d4) for mainnet, Sepolia and Hoodi through
/// Osaka, BPO1 and BPO2, run against our built-in chain specs.
/// </summary>
public sealed class ForkIdTests
{
    private const ulong Max = ulong.MaxValue;

    /// <summary>Mainnet as the EIP saw it: block forks up to Petersburg, nothing after.</summary>
    private static readonly ChainSpec MainnetPetersburg = Networks.Mainnet with
    {
        ForkBlocks = [.. Networks.Mainnet.ForkBlocks.Where(b => b <= 7_280_000)],
        ForkTimes = [],
    };

    /// <summary>geth's legacyConfig: mainnet without its timestamped forks (Gray Glacier last).</summary>
    private static readonly ChainSpec MainnetGrayGlacier = Networks.Mainnet with { ForkTimes = [] };

    public static TheoryData<string, ulong, uint, ulong> Eip2124Mainnet() => new()
    {
        { "unsynced", 0, 0xfc64ec04, 1_150_000 },
        { "last Frontier block", 1_149_999, 0xfc64ec04, 1_150_000 },
        { "first Homestead block", 1_150_000, 0x97c2c34c, 1_920_000 },
        { "last Homestead block", 1_919_999, 0x97c2c34c, 1_920_000 },
        { "first DAO block", 1_920_000, 0x91d1f948, 2_463_000 },
        { "last DAO block", 2_462_999, 0x91d1f948, 2_463_000 },
        { "first Tangerine block", 2_463_000, 0x7a64da13, 2_675_000 },
        { "last Tangerine block", 2_674_999, 0x7a64da13, 2_675_000 },
        { "first Spurious block: EIP-155 and EIP-158 share a block, counted once", 2_675_000, 0x3edd5b10, 4_370_000 },
        { "last Spurious block", 4_369_999, 0x3edd5b10, 4_370_000 },
        { "first Byzantium block", 4_370_000, 0xa00bc324, 7_280_000 },
        { "last Byzantium block", 7_279_999, 0xa00bc324, 7_280_000 },
        { "first Constantinople and Petersburg block, one value; no fork known after it", 7_280_000, 0x668db0af, 0 },
        { "the EIP's today, still Petersburg", 7_987_396, 0x668db0af, 0 },
    };

    [Theory]
    [MemberData(nameof(Eip2124Mainnet))]
    public void Eip2124_published_mainnet_vectors(string what, ulong head, uint hash, ulong next)
    {
        Assert.True(new ForkId(hash, next) == ForkId.For(MainnetPetersburg, head, 0), what);
    }

    public static TheoryData<string, string, ulong, ulong, uint, ulong> GethCreation() => new()
    {
        // Mainnet.
        { "unsynced", "mainnet", 0, 0, 0xfc64ec04, 1_150_000 },
        { "last Frontier block", "mainnet", 1_149_999, 0, 0xfc64ec04, 1_150_000 },
        { "first Homestead block", "mainnet", 1_150_000, 0, 0x97c2c34c, 1_920_000 },
        { "first DAO block", "mainnet", 1_920_000, 0, 0x91d1f948, 2_463_000 },
        { "first Tangerine block", "mainnet", 2_463_000, 0, 0x7a64da13, 2_675_000 },
        { "first Spurious block", "mainnet", 2_675_000, 0, 0x3edd5b10, 4_370_000 },
        { "first Byzantium block", "mainnet", 4_370_000, 0, 0xa00bc324, 7_280_000 },
        { "first Constantinople and Petersburg block", "mainnet", 7_280_000, 0, 0x668db0af, 9_069_000 },
        { "last Petersburg block", "mainnet", 9_068_999, 0, 0x668db0af, 9_069_000 },
        { "first Istanbul block", "mainnet", 9_069_000, 0, 0x879d6e30, 9_200_000 },
        { "first Muir Glacier block", "mainnet", 9_200_000, 0, 0xe029e991, 12_244_000 },
        { "first Berlin block", "mainnet", 12_244_000, 0, 0x0eb440f6, 12_965_000 },
        { "first London block", "mainnet", 12_965_000, 0, 0xb715077d, 13_773_000 },
        { "first Arrow Glacier block", "mainnet", 13_773_000, 0, 0x20c327fc, 15_050_000 },
        { "first Gray Glacier block: the next fork is a timestamp", "mainnet", 15_050_000, 0, 0xf0afd0e3, 1_681_338_455 },
        { "last Gray Glacier block: the merge block is not a fork on mainnet", "mainnet", 20_000_000, 1_681_338_454, 0xf0afd0e3, 1_681_338_455 },
        { "first Shanghai block", "mainnet", 20_000_000, 1_681_338_455, 0xdce96c2d, 1_710_338_135 },
        { "last Shanghai block", "mainnet", 30_000_000, 1_710_338_134, 0xdce96c2d, 1_710_338_135 },
        { "first Cancun block", "mainnet", 30_000_000, 1_710_338_135, 0x9f3d2254, 1_746_612_311 },
        { "first Prague block", "mainnet", 30_000_000, 1_746_612_311, 0xc376cf8b, 1_764_798_551 },
        { "last Prague block", "mainnet", 30_000_000, 1_764_798_550, 0xc376cf8b, 1_764_798_551 },
        { "first Osaka block", "mainnet", 30_000_000, 1_764_798_551, 0x5167e2a6, 1_765_290_071 },
        { "first BPO1 block", "mainnet", 30_000_000, 1_765_290_071, 0xcba2a1c0, 1_767_747_671 },
        { "last BPO1 block", "mainnet", 30_000_000, 1_767_747_670, 0xcba2a1c0, 1_767_747_671 },
        { "first BPO2 block: the current mainnet fork id", "mainnet", 30_000_000, 1_767_747_671, 0x07c9462e, 0 },
        { "a future BPO2 block", "mainnet", 50_000_000, 2_000_000_000, 0x07c9462e, 0 },

        // Sepolia: every block fork but the merge netsplit at genesis.
        { "unsynced: forks at block 0 are the genesis rules", "sepolia", 0, 0, 0xfe3366e7, 1_735_371 },
        { "last London block", "sepolia", 1_735_370, 0, 0xfe3366e7, 1_735_371 },
        { "first merge netsplit block", "sepolia", 1_735_371, 0, 0xb96cbd13, 1_677_557_088 },
        { "last merge netsplit block", "sepolia", 1_735_372, 1_677_557_087, 0xb96cbd13, 1_677_557_088 },
        { "first Shanghai block", "sepolia", 1_735_372, 1_677_557_088, 0xf7f9bc08, 1_706_655_072 },
        { "first Cancun block", "sepolia", 1_735_372, 1_706_655_072, 0x88cf81d9, 1_741_159_776 },
        { "first Prague block", "sepolia", 1_735_372, 1_741_159_776, 0xed88b5fd, 1_760_427_360 },
        { "first Osaka block", "sepolia", 1_735_372, 1_760_427_360, 0xe2ae4999, 1_761_017_184 },
        { "first BPO1 block", "sepolia", 1_735_372, 1_761_017_184, 0x56078a1e, 1_761_607_008 },
        { "last BPO1 block", "sepolia", 1_735_372, 1_761_607_007, 0x56078a1e, 1_761_607_008 },
        { "first BPO2 block: the current Sepolia fork id", "sepolia", 1_735_372, 1_761_607_008, 0x268956b6, 0 },
        { "a future BPO2 block", "sepolia", 1_735_372, 2_000_000_000, 0x268956b6, 0 },

        // Hoodi: Shanghai and Cancun at time 0, before its genesis time, so not forks.
        { "unsynced: time forks before genesis are the genesis rules", "hoodi", 0, 0, 0xbef71d30, 1_742_999_832 },
        { "last Cancun block", "hoodi", 123, 1_742_999_831, 0xbef71d30, 1_742_999_832 },
        { "first Prague block", "hoodi", 123, 1_742_999_832, 0x0929e24e, 1_761_677_592 },
        { "first Osaka block", "hoodi", 123, 1_761_677_592, 0xe7e0e7ff, 1_762_365_720 },
        { "first BPO1 block", "hoodi", 123, 1_762_365_720, 0x3893353e, 1_762_955_544 },
        { "last BPO1 block", "hoodi", 123, 1_762_955_543, 0x3893353e, 1_762_955_544 },
        { "first BPO2 block: the current Hoodi fork id", "hoodi", 123, 1_762_955_544, 0x23aa1351, 0 },
        { "a future BPO2 block", "hoodi", 123, 2_000_000_000, 0x23aa1351, 0 },
    };

    [Theory]
    [MemberData(nameof(GethCreation))]
    public void Geth_creation_table_against_the_built_in_specs(string what, string network, ulong head, ulong time, uint hash, ulong next)
    {
        var spec = Networks.ByName(network)!;

        Assert.True(new ForkId(hash, next) == ForkId.For(spec, head, time), $"{network}: {what}: {ForkId.For(spec, head, time)}");
    }

    [Theory]
    [InlineData("Shanghai before genesis is part of the genesis rules", -1, 1)]
    [InlineData("Shanghai at the genesis time is part of the genesis rules", 0, 1)]
    [InlineData("Shanghai after genesis is the next fork", 1, 2)]
    public void Time_forks_at_or_before_genesis_are_not_forks(string what, int shanghai, int cancun)
    {
        const ulong genesisTime = 1_690_475_657;
        var spec = new ChainSpec
        {
            Name = "genesis-time",
            ChainId = 1337,
            GenesisHash = Hash256.FromHex("0x0102030405060708091011121314151617181920212223242526272829303132"),
            GenesisTimestamp = genesisTime,
            ForkBlocks = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ForkTimes = [(ulong)((long)genesisTime + shanghai), (ulong)((long)genesisTime + cancun)],
        };

        Assert.True(new ForkId(Crc(spec.GenesisHash), genesisTime + 1) == ForkId.For(spec, 0, genesisTime), what);
    }

    /// <summary>EIP-2124's validation table, mainnet capped at Petersburg.</summary>
    public static TheoryData<string, ulong, uint, ulong, ForkIdVerdict> Eip2124Validation() => new()
    {
        { "same fork state, no future fork announced", 7_987_396, 0x668db0af, 0, ForkIdVerdict.SameForks },
        { "same fork state, remote announces an uncertain future fork", 7_987_396, 0x668db0af, Max, ForkIdVerdict.SameForks },
        { "both Byzantium, remote not aware of Petersburg yet", 7_279_999, 0xa00bc324, 0, ForkIdVerdict.SameForks },
        { "both Byzantium, both aware of Petersburg", 7_279_999, 0xa00bc324, 7_280_000, ForkIdVerdict.SameForks },
        { "both Byzantium, remote aware of some other fork not passed by either", 7_279_999, 0xa00bc324, Max, ForkIdVerdict.SameForks },
        // The EIP lists this case with the Petersburg hash 0x668db0af, which rule 1a (added after the EIP by geth)
        // rejects; geth's table carries it with the Byzantium hash, as here.
        { "local Petersburg, remote Byzantium aware of Petersburg: remote syncing", 7_987_396, 0xa00bc324, 7_280_000, ForkIdVerdict.RemoteSyncing },
        { "local Petersburg, remote Spurious aware of Byzantium: remote syncing", 7_987_396, 0x3edd5b10, 4_370_000, ForkIdVerdict.RemoteSyncing },
        { "local Byzantium, remote Petersburg: local syncing", 7_279_999, 0x668db0af, 0, ForkIdVerdict.LocalSyncing },
        { "local Spurious, remote Byzantium: local syncing", 4_369_999, 0xa00bc324, 0, ForkIdVerdict.LocalSyncing },
        { "local Petersburg, remote Byzantium unaware of later forks: remote stale", 7_987_396, 0xa00bc324, 0, ForkIdVerdict.RemoteStale },
        { "local Petersburg knows no later fork, remote passed one: local stale", 7_987_396, 0x5cddc0e1, 0, ForkIdVerdict.Incompatible },
        { "local Byzantium, remote passed a fork after Petersburg: local stale", 7_279_999, 0x5cddc0e1, 0, ForkIdVerdict.Incompatible },
        { "local mainnet, remote Rinkeby", 7_987_396, 0xafec6b27, 0, ForkIdVerdict.Incompatible },
    };

    [Theory]
    [MemberData(nameof(Eip2124Validation))]
    public void Eip2124_validation_table(string what, ulong head, uint hash, ulong next, ForkIdVerdict expected)
    {
        var check = new ForkFilter(MainnetPetersburg).Check(new ForkId(hash, next), head, 0);

        Assert.True(expected == check.Verdict, $"{what}: {check.Verdict} ({check.Reason})");
    }

    /// <summary>geth's TestValidation: legacy mainnet (no timestamped forks), then mainnet through BPO2.</summary>
    public static TheoryData<string, bool, ulong, ulong, uint, ulong, ForkIdVerdict> GethValidation() => new()
    {
        // Block based.
        { "Gray Glacier both, no future fork", false, 15_050_000, 0, 0xf0afd0e3, 0, ForkIdVerdict.SameForks },
        { "Gray Glacier both, remote announces an uncertain fork", false, 15_050_000, 0, 0xf0afd0e3, Max, ForkIdVerdict.SameForks },
        { "Byzantium both, remote unaware of Petersburg", false, 7_279_999, 0, 0xa00bc324, 0, ForkIdVerdict.SameForks },
        { "Byzantium both, both aware of Petersburg", false, 7_279_999, 0, 0xa00bc324, 7_280_000, ForkIdVerdict.SameForks },
        { "Byzantium both, remote aware of a random fork", false, 7_279_999, 0, 0xa00bc324, Max, ForkIdVerdict.SameForks },
        { "local exactly on Petersburg, remote Byzantium aware of it", false, 7_280_000, 0, 0xa00bc324, 7_280_000, ForkIdVerdict.RemoteSyncing },
        { "local Petersburg, remote Byzantium aware of it", false, 7_987_396, 0, 0xa00bc324, 7_280_000, ForkIdVerdict.RemoteSyncing },
        { "local Petersburg, remote Spurious aware of Byzantium", false, 7_987_396, 0, 0x3edd5b10, 4_370_000, ForkIdVerdict.RemoteSyncing },
        { "local Byzantium, remote Petersburg", false, 7_279_999, 0, 0x668db0af, 0, ForkIdVerdict.LocalSyncing },
        { "local Spurious, remote Byzantium", false, 4_369_999, 0, 0xa00bc324, 0, ForkIdVerdict.LocalSyncing },
        { "local Petersburg, remote Byzantium unaware of later forks", false, 7_987_396, 0, 0xa00bc324, 0, ForkIdVerdict.RemoteStale },
        { "local Petersburg, remote passed an unknown fork", false, 7_987_396, 0, 0x5cddc0e1, 0, ForkIdVerdict.Incompatible },
        { "local Byzantium, remote passed an unknown fork", false, 7_279_999, 0, 0x5cddc0e1, 0, ForkIdVerdict.Incompatible },
        { "local mainnet, remote Rinkeby", false, 7_987_396, 0, 0xafec6b27, 0, ForkIdVerdict.Incompatible },
        { "local far past a fork the remote announces for block 88888888", false, 88_888_888, 0, 0xf0afd0e3, 88_888_888, ForkIdVerdict.RemoteForkPassed },
        { "remote announces a fork at the block we are on, before Petersburg", false, 7_279_999, 0, 0xa00bc324, 7_279_999, ForkIdVerdict.RemoteForkPassed },

        // Block to timestamp transition.
        { "Gray Glacier both, remote unaware of Shanghai", true, 15_050_000, 0, 0xf0afd0e3, 0, ForkIdVerdict.SameForks },
        { "Gray Glacier both, both aware of Shanghai", true, 15_050_000, 0, 0xf0afd0e3, 1_681_338_455, ForkIdVerdict.SameForks },
        { "Gray Glacier both, remote aware of a random fork", true, 15_050_000, 0, 0xf0afd0e3, Max, ForkIdVerdict.SameForks },
        { "local exactly on Shanghai, remote Gray Glacier aware of it", true, 20_000_000, 1_681_338_455, 0xf0afd0e3, 1_681_338_455, ForkIdVerdict.RemoteSyncing },
        { "local Shanghai, remote Gray Glacier aware of it", true, 20_123_456, 1_681_338_456, 0xf0afd0e3, 1_681_338_455, ForkIdVerdict.RemoteSyncing },
        { "local Shanghai, remote Arrow Glacier aware of Gray Glacier", true, 20_000_000, 1_681_338_455, 0x20c327fc, 15_050_000, ForkIdVerdict.RemoteSyncing },
        { "local Gray Glacier, remote Shanghai", true, 15_050_000, 0, 0xdce96c2d, 0, ForkIdVerdict.LocalSyncing },
        { "local Arrow Glacier, remote Gray Glacier", true, 13_773_000, 0, 0xf0afd0e3, 0, ForkIdVerdict.LocalSyncing },
        { "local Shanghai, remote Gray Glacier unaware of Shanghai", true, 20_000_000, 1_681_338_455, 0xf0afd0e3, 0, ForkIdVerdict.RemoteStale },
        { "local Gray Glacier, remote passed a fork after it we do not know", true, 15_050_000, 0, Crc(Networks.Mainnet.GenesisHash, [.. MainnetPastForks(0), Max]), 0, ForkIdVerdict.Incompatible },
        { "local Gray Glacier, remote passed Shanghai and a fork we do not know", true, 15_050_000, 0, Crc(Networks.Mainnet.GenesisHash, [.. MainnetPastForks(1_681_338_455), Max]), 0, ForkIdVerdict.Incompatible },
        { "remote announces a time fork our head's time has passed, our phase still by block", true, 888_888_888, 1_660_000_000, 0xf0afd0e3, 1_660_000_000, ForkIdVerdict.RemoteForkPassed },
        { "remote announces a time fork at our head's time, before Shanghai", true, 19_999_999, 1_667_999_999, 0xf0afd0e3, 1_667_999_999, ForkIdVerdict.RemoteForkPassed },

        // Timestamp based.
        { "Shanghai both, no future fork", true, 20_000_000, 1_681_338_455, 0xdce96c2d, 0, ForkIdVerdict.SameForks },
        { "Shanghai both, remote announces an uncertain fork", true, 20_000_000, 1_681_338_455, 0xdce96c2d, Max, ForkIdVerdict.SameForks },
        { "local before Shanghai by time, remote Shanghai unaware of Cancun (geth: local Shanghai)", true, 20_000_000, 1_668_000_000, 0xdce96c2d, 0, ForkIdVerdict.LocalSyncing },
        { "local before Shanghai by time, remote Shanghai aware of Cancun", true, 20_000_000, 1_668_000_000, 0xdce96c2d, 1_710_338_135, ForkIdVerdict.LocalSyncing },
        { "local before Shanghai by time, remote Shanghai aware of a random fork", true, 20_000_000, 1_668_000_000, 0xdce96c2d, Max, ForkIdVerdict.LocalSyncing },
        { "local exactly on Cancun, remote Shanghai aware of it", true, 21_000_000, 1_710_338_135, 0xdce96c2d, 1_710_338_135, ForkIdVerdict.RemoteSyncing },
        { "local Cancun, remote Shanghai aware of it", true, 21_123_456, 1_710_338_136, 0xdce96c2d, 1_710_338_135, ForkIdVerdict.RemoteSyncing },
        { "local unsynced, remote Spurious (geth: local Prague)", true, 0, 0, 0x3edd5b10, 1_710_338_135, ForkIdVerdict.LocalSyncing },
        { "local Shanghai, remote Cancun", true, 21_000_000, 1_700_000_000, 0x9f3d2254, 0, ForkIdVerdict.LocalSyncing },
        { "local before Shanghai, remote Prague", true, 21_000_000, 1_678_000_000, 0xc376cf8b, 0, ForkIdVerdict.LocalSyncing },
        { "local Cancun, remote Shanghai unaware of Cancun", true, 21_000_000, 1_710_338_135, 0xdce96c2d, 0, ForkIdVerdict.RemoteStale },
        { "local Shanghai knows no fork the remote passed after Shanghai", true, 20_000_000, 1_681_338_455, Crc(Networks.Mainnet.GenesisHash, [.. MainnetPastForks(1_681_338_455), Max]), 0, ForkIdVerdict.Incompatible },
        { "local before Shanghai, remote passed Cancun and a fork we do not know", true, 20_000_000, 1_668_000_000, Crc(Networks.Mainnet.GenesisHash, [.. MainnetPastForks(1_710_338_135), Max]), 0, ForkIdVerdict.Incompatible },
        { "local Shanghai, remote a random chain", true, 20_000_000, 1_681_338_455, 0x12345678, 0, ForkIdVerdict.Incompatible },
        { "local BPO2 far in the future, remote announces a fork that time passed", true, 88_888_888, 8_888_888_888, 0x07c9462e, 8_888_888_888, ForkIdVerdict.RemoteForkPassed },
        { "local Shanghai, remote a fork state we never had", true, 20_999_999, 1_699_999_999, 0x71147644, 1_700_000_000, ForkIdVerdict.Incompatible },

        // Not in geth's table: the cases that tell its threshold and its "next must be our following fork" apart.
        { "local Arrow Glacier by block, remote announces a time fork our head's time passed", true, 13_773_000, 1_700_000_000, 0x20c327fc, 1_690_000_000, ForkIdVerdict.RemoteForkPassed },
        { "local Arrow Glacier by block, remote announces a time fork our head's time has not reached", true, 13_773_000, 1_600_000_000, 0x20c327fc, 1_690_000_000, ForkIdVerdict.SameForks },
        { "local Petersburg, remote Byzantium expecting a later fork than ours (Istanbul's block)", false, 7_987_396, 0, 0xa00bc324, 9_069_000, ForkIdVerdict.RemoteStale },
        { "local Petersburg, remote Byzantium expecting an earlier fork than ours", false, 7_987_396, 0, 0xa00bc324, 7_000_000, ForkIdVerdict.RemoteStale },
    };

    [Theory]
    [MemberData(nameof(GethValidation))]
    public void Geth_validation_table(string what, bool withTimeForks, ulong head, ulong time, uint hash, ulong next, ForkIdVerdict expected)
    {
        var spec = withTimeForks ? Networks.Mainnet : MainnetGrayGlacier;

        var check = new ForkFilter(spec).Check(new ForkId(hash, next), head, time);

        Assert.True(expected == check.Verdict, $"{what}: {check.Verdict} ({check.Reason})");
        Assert.Equal(expected is ForkIdVerdict.SameForks or ForkIdVerdict.RemoteSyncing or ForkIdVerdict.LocalSyncing, check.Accepted);
    }

    [Fact]
    public void A_head_at_the_largest_number_and_time_still_meets_the_never_passed_fork()
    {
        var check = new ForkFilter(Networks.Mainnet).Check(new ForkId(0x07c9462e, 0), Max, Max);

        Assert.Equal(ForkIdVerdict.SameForks, check.Verdict);
    }

    [Fact]
    public void Reasons_name_both_fork_states()
    {
        var check = new ForkFilter(Networks.Mainnet).Check(new ForkId(0x12345678, 0), 20_000_000, 1_681_338_455);

        Assert.Contains("0x12345678", check.Reason, StringComparison.Ordinal);
        Assert.Contains("0xdce96c2d", check.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u, 0ul, "c6840000000080")]
    [InlineData(0xdeadbeefu, 0xbaddcafeul, "ca84deadbeef84baddcafe")]
    [InlineData(0xffffffffu, ulong.MaxValue, "ce84ffffffff88ffffffffffffffff")]
    public void Rlp_is_a_four_byte_hash_and_an_integer_next(uint hash, ulong next, string hex)
    {
        var id = new ForkId(hash, next);

        Assert.Equal(hex, Convert.ToHexStringLower(id.Encode()));
        Assert.Equal(hex.Length / 2, id.EncodedLength);
        Assert.Equal(id, ForkId.Decode(Convert.FromHexString(hex)));
    }

    [Theory]
    [InlineData("c58300000080", "4 bytes")]
    [InlineData("c784000000008080", "trailing")]
    [InlineData("c88400000000820001", "leading zero")]
    [InlineData("c6840000000081", "overruns")]
    [InlineData("8400000000", "expected a list")]
    [InlineData("c2c080", "expected a string")]
    public void Malformed_rlp_is_refused(string hex, string reason)
    {
        var error = Assert.Throws<RlpException>(() => ForkId.Decode(Convert.FromHexString(hex)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mainnet")]
    [InlineData("sepolia")]
    [InlineData("hoodi")]
    public void Built_in_fork_lists_hold_every_fork_the_spec_names(string network)
    {
        var spec = Networks.ByName(network)!;

        Assert.Equal(BuiltInGenesis.For(spec).Timestamp, spec.GenesisTimestamp);
        Assert.Contains(spec.LondonBlock!.Value, spec.ForkBlocks);
        Assert.Contains(spec.ShanghaiTime!.Value, spec.ForkTimes);
        Assert.Contains(spec.CancunTime!.Value, spec.ForkTimes);
        Assert.Contains(spec.PragueTime!.Value, spec.ForkTimes);
        Assert.Contains(spec.OsakaTime!.Value, spec.ForkTimes);
        Assert.All(spec.BlobSchedule, entry => Assert.Contains(entry.Time, spec.ForkTimes));
    }

    [Fact]
    public void Geth_genesis_reads_every_block_and_time_fork_key()
    {
        var spec = ExecutionApisChain.Spec;

        Assert.Equal([0ul, 3, 6, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36], spec.ForkBlocks);
        Assert.Equal([390ul, 420, 450, 480, 510, 540], spec.ForkTimes);
        Assert.Equal(ExecutionApisChain.Genesis.Header.Timestamp, spec.GenesisTimestamp);
    }

    [Fact]
    public void Geth_genesis_counts_the_dao_block_and_forks_after_bpo2()
    {
        const string json = """
            {"config":{"chainId":7,"daoForkBlock":5,"daoForkSupport":true,"eip150Hash":"0x01","amsterdamTime":900,
              "bpo3Time":800,"blobSchedule":{"bpo3":{"target":1,"max":2,"baseFeeUpdateFraction":3}}},
             "timestamp":"0x10"}
            """;

        var spec = GethGenesis.Parse(json).Spec;

        Assert.Equal([5ul], spec.ForkBlocks);
        Assert.Equal([800ul, 900], spec.ForkTimes);
        Assert.Equal(16ul, spec.GenesisTimestamp);
        Assert.Equal(new ForkId(Crc(spec.GenesisHash, 5), 800), ForkId.For(spec, 5, 799));
    }

    /// <summary>
    /// Mainnet's passed forks up to and including <paramref name="until"/>: its distinct block forks, then its
    /// timestamps up to that time.
    /// </summary>
    private static ulong[] MainnetPastForks(ulong until) =>
        [.. Networks.Mainnet.ForkBlocks.Distinct().Order(), .. Networks.Mainnet.ForkTimes.Where(t => t <= until).Order()];

    /// <summary>The EIP-2124 checksum written out: CRC32 of the genesis hash and each fork as 8 big-endian bytes.</summary>
    private static uint Crc(Hash256 genesis, params ulong[] forks)
    {
        var data = new byte[Hash256.Size + (8 * forks.Length)];
        genesis.CopyTo(data);
        for (var i = 0; i < forks.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(Hash256.Size + (8 * i)), forks[i]);
        }
        return Crc32.HashToUInt32(data);
    }
}
