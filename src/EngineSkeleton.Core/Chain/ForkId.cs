using System.Buffers.Binary;
using System.IO.Hashing;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Chain;

/// <summary>
/// An EIP-2124 fork identifier. <see cref="Hash"/> is the IEEE CRC32 of the genesis hash followed by every fork
/// block number, then every fork timestamp, that the chain has passed (8 bytes big-endian each, ascending, a value
/// shared by several forks counted once, forks at block 0 or at or before the genesis time not counted: they are the
/// genesis rules). <see cref="Next"/> is the first fork not passed yet, 0 when the config knows of none.
/// On the wire (eth Status, the ENR "eth" entry) it is RLP [hash: 4 bytes, next: integer]. Peers judge each other's
/// fork id with <see cref="ForkFilter"/>, never with ==.
/// </summary>
public readonly record struct ForkId(uint Hash, ulong Next)
{
    /// <summary>The fork hash is a 4-byte string on the wire, leading zero bytes kept (not an integer).</summary>
    public const int HashSize = 4;

    /// <summary>The fork id of <paramref name="spec"/> for a head of this number and timestamp (geth forkid.NewID).</summary>
    public static ForkId For(ChainSpec spec, ulong headNumber, ulong headTimestamp)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (byBlock, byTime) = Forks(spec);
        var crc = Start(spec);
        foreach (var block in byBlock)
        {
            if (block > headNumber)
            {
                return new ForkId(crc.GetCurrentHashAsUInt32(), block);
            }
            Append(crc, block);
        }
        foreach (var time in byTime)
        {
            if (time > headTimestamp)
            {
                return new ForkId(crc.GetCurrentHashAsUInt32(), time);
            }
            Append(crc, time);
        }
        return new ForkId(crc.GetCurrentHashAsUInt32(), 0);
    }

    public int EncodedLength => RlpWriter.LengthOfList(PayloadLength);

    private int PayloadLength => 1 + HashSize + RlpWriter.LengthOfUInt64(Next);

    public byte[] Encode()
    {
        var output = new byte[EncodedLength];
        var writer = new RlpWriter(output);
        Write(ref writer);
        return output;
    }

    public void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(PayloadLength);
        Span<byte> hash = stackalloc byte[HashSize];
        BinaryPrimitives.WriteUInt32BigEndian(hash, Hash);
        writer.WriteBytes(hash);
        writer.WriteUInt64(Next);
    }

    /// <summary>Decodes one fork id that must span the whole input; throws <see cref="RlpException"/>.</summary>
    public static ForkId Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new RlpReader(encoded);
        var id = Read(ref reader);
        reader.EnsureEnd();
        return id;
    }

    /// <summary>Reads [hash, next], exactly two items; throws <see cref="RlpException"/>.</summary>
    public static ForkId Read(ref RlpReader reader)
    {
        var fields = reader.ReadList();
        var hash = BinaryPrimitives.ReadUInt32BigEndian(fields.ReadBytes(HashSize));
        var next = fields.ReadUInt64();
        fields.EnsureEnd();
        return new ForkId(hash, next);
    }

    public override string ToString() => $"0x{Hash:x8} next {Next}";

    /// <summary>
    /// The forks the fork id counts, as geth's gatherForks lists them: block numbers and timestamps each ascending,
    /// each value once, block 0 dropped, timestamps at or before the genesis time dropped.
    /// </summary>
    internal static (ulong[] ByBlock, ulong[] ByTime) Forks(ChainSpec spec) =>
        ([.. spec.ForkBlocks.Where(b => b != 0).Distinct().Order()],
         [.. spec.ForkTimes.Where(t => t > spec.GenesisTimestamp).Distinct().Order()]);

    internal static Crc32 Start(ChainSpec spec)
    {
        var crc = new Crc32();
        crc.Append(spec.GenesisHash.Bytes);
        return crc;
    }

    internal static void Append(Crc32 crc, ulong fork)
    {
        Span<byte> bigEndian = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(bigEndian, fork);
        crc.Append(bigEndian);
    }
}

/// <summary>
/// Judges a peer's fork id against our chain at our head, by the rules of EIP-2124 as geth applies them
/// (core/forkid newFilter): (1) same fork hash: accept, unless they announce a next fork we have already passed;
/// (2) their hash is one of our past ones (they are syncing): accept if their next fork is the fork we passed after
/// it, else they are stale; (3) their hash is one of our future ones (we are syncing): accept; (4) reject.
/// Built once per chain; <see cref="Check"/> is pure and thread-safe.
/// </summary>
public sealed class ForkFilter
{
    /// <summary>
    /// Mainnet's genesis timestamp. A remote next fork above it is taken for a timestamp: during the block-to-time
    /// transition a peer may announce a time fork while our own phase is still counted in blocks (geth
    /// timestampThreshold).
    /// </summary>
    private const ulong TimestampThreshold = 1_438_269_973;

    private readonly ulong[] _forks;
    private readonly int _blockForks;
    private readonly bool _hasTimeForks;

    /// <summary><c>_sums[i]</c> is the fork hash before fork i; <c>_sums[0]</c> the genesis alone; one more than forks.</summary>
    private readonly uint[] _sums;

    public ForkFilter(ChainSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (byBlock, byTime) = ForkId.Forks(spec);
        _forks = [.. byBlock, .. byTime];
        _blockForks = byBlock.Length;
        _hasTimeForks = byTime.Length > 0;
        _sums = new uint[_forks.Length + 1];
        var crc = ForkId.Start(spec);
        _sums[0] = crc.GetCurrentHashAsUInt32();
        for (var i = 0; i < _forks.Length; i++)
        {
            ForkId.Append(crc, _forks[i]);
            _sums[i + 1] = crc.GetCurrentHashAsUInt32();
        }
    }

    /// <summary>Judges <paramref name="remote"/> with our head at this block number and timestamp.</summary>
    public ForkIdCheck Check(ForkId remote, ulong headNumber, ulong headTimestamp)
    {
        // Index _forks.Length stands for a fork never passed: every head stops at it. It counts as a time fork when
        // the chain has any, so that a head past every fork compares by time, as geth's sentinel does.
        for (var i = 0; i <= _forks.Length; i++)
        {
            var byTime = i >= _blockForks && (i < _forks.Length || _hasTimeForks);
            var head = byTime ? headTimestamp : headNumber;
            if (i < _forks.Length && head >= _forks[i])
            {
                continue;
            }
            return Judge(remote, i, head, headTimestamp);
        }
        throw new InvalidOperationException("unreachable: the last index is never passed");
    }

    /// <summary>Rules 1 to 4 for a head whose first fork not passed is <paramref name="next"/>.</summary>
    private ForkIdCheck Judge(ForkId remote, int next, ulong head, ulong headTimestamp)
    {
        var ours = _sums[next];
        if (ours == remote.Hash)
        {
            if (remote.Next > 0 && (head >= remote.Next || (remote.Next > TimestampThreshold && headTimestamp >= remote.Next)))
            {
                return new ForkIdCheck(
                    ForkIdVerdict.RemoteForkPassed,
                    $"their next fork at {remote.Next} is behind our head, which passed it without forking: " +
                    "one of us runs another chain or old software");
            }
            return new ForkIdCheck(ForkIdVerdict.SameForks, $"same fork state 0x{ours:x8}");
        }
        for (var j = 0; j < next; j++)
        {
            if (_sums[j] == remote.Hash)
            {
                return _forks[j] == remote.Next
                    ? new ForkIdCheck(ForkIdVerdict.RemoteSyncing, $"they are at our earlier fork state 0x{remote.Hash:x8}, syncing towards fork {_forks[j]}")
                    : new ForkIdCheck(
                        ForkIdVerdict.RemoteStale,
                        $"they are at our earlier fork state 0x{remote.Hash:x8} but expect next fork {remote.Next}, " +
                        $"not fork {_forks[j]} that followed it here: their software needs an update");
            }
        }
        for (var j = next + 1; j < _sums.Length; j++)
        {
            if (_sums[j] == remote.Hash)
            {
                return new ForkIdCheck(ForkIdVerdict.LocalSyncing, $"they are at our later fork state 0x{remote.Hash:x8}: we are syncing");
            }
        }
        return new ForkIdCheck(
            ForkIdVerdict.Incompatible,
            $"their fork state 0x{remote.Hash:x8} is none of ours (ours is 0x{ours:x8}): " +
            "another chain, or our software needs an update");
    }
}

/// <summary>What <see cref="ForkFilter"/> made of a peer's fork id; the first three accept the peer.</summary>
public enum ForkIdVerdict
{
    /// <summary>Rule 1: same fork hash, and their next fork (if any) not passed by us.</summary>
    SameForks,

    /// <summary>Rule 2: their hash is one of our past ones and they announce the fork that followed it.</summary>
    RemoteSyncing,

    /// <summary>Rule 3: their hash is one of our future ones.</summary>
    LocalSyncing,

    /// <summary>Rule 1a: same hash, but they announce a next fork our head has passed (geth ErrLocalIncompatibleOrStale).</summary>
    RemoteForkPassed,

    /// <summary>Rule 2 failed: one of our past hashes, but a next fork we did not have there (geth ErrRemoteStale).</summary>
    RemoteStale,

    /// <summary>Rule 4: no hash of ours, past, present or future (geth ErrLocalIncompatibleOrStale).</summary>
    Incompatible,
}

/// <summary>A fork id verdict and the sentence that explains it to an operator.</summary>
public readonly record struct ForkIdCheck(ForkIdVerdict Verdict, string Reason)
{
    public bool Accepted => Verdict is ForkIdVerdict.SameForks or ForkIdVerdict.RemoteSyncing or ForkIdVerdict.LocalSyncing;
}
