using EngineSkeleton.Core.Chain;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>The part of a Status exchange that differs.</summary>
internal enum StatusField
{
    Version,
    NetworkId,
    Genesis,
    ForkId,
    BlockRange,
}

/// <summary>One way a peer's Status differs from ours, as the sentence an operator reads (both values named).</summary>
internal sealed record StatusMismatch(StatusField Field, string Reason);

/// <summary>
/// The eth handshake's verdict on a peer's Status, in the order geth checks it (eth/protocols/eth handshake.go):
/// network id, version, genesis, fork id (through <see cref="ForkFilter"/>), then for eth/69 the block range. Every
/// mismatch is listed, not only the first, so one log line tells the operator all that is wrong.
/// </summary>
internal sealed record StatusCheck(IReadOnlyList<StatusMismatch> Mismatches)
{
    public bool Compatible => Mismatches.Count == 0;

    /// <summary>
    /// Compares <paramref name="theirs"/> with <paramref name="ours"/>; the fork id is judged by
    /// <paramref name="filter"/> with our head at this number and timestamp.
    /// </summary>
    public static StatusCheck Compare(StatusMessage ours, StatusMessage theirs, ForkFilter filter, ulong headNumber, ulong headTimestamp)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(theirs);
        ArgumentNullException.ThrowIfNull(filter);
        var mismatches = new List<StatusMismatch>();
        if (theirs.NetworkId != ours.NetworkId)
        {
            mismatches.Add(new(StatusField.NetworkId, $"network id: theirs {theirs.NetworkId}, ours {ours.NetworkId}"));
        }
        if (theirs.Version != ours.Version)
        {
            mismatches.Add(new(StatusField.Version, $"eth version: theirs {theirs.Version}, ours {ours.Version}"));
        }
        if (theirs.Genesis != ours.Genesis)
        {
            mismatches.Add(new(StatusField.Genesis, $"genesis: theirs {theirs.Genesis}, ours {ours.Genesis}"));
        }
        var fork = filter.Check(theirs.ForkId, headNumber, headTimestamp);
        if (!fork.Accepted)
        {
            mismatches.Add(new(StatusField.ForkId, $"fork id: theirs {theirs.ForkId}, ours {ours.ForkId}: {fork.Reason}"));
        }
        if (theirs is StatusMessage69 { Range.Problem: { } problem })
        {
            mismatches.Add(new(StatusField.BlockRange, $"block range: {problem}"));
        }
        return new StatusCheck(mismatches);
    }

    /// <summary>Every mismatch, "; "-separated: the reason a disconnect is logged with.</summary>
    public override string ToString() =>
        Compatible ? "compatible" : string.Join("; ", Mismatches.Select(m => m.Reason));
}
