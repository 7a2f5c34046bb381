using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Checkpoint;

namespace EngineSkeleton.Sync.Tests.Checkpoint;

/// <summary>--sync.checkpoint NUMBER:HASH as the operator types it (README.md (flags)).</summary>
public sealed class SyncCheckpointTests
{
    private const string Hash = "0x" + "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34";

    [Theory]
    [InlineData("a decimal number and a 0x hash", "21000000:" + Hash, 21_000_000UL)]
    [InlineData("a hex number, as JSON-RPC writes them", "0x1406f40:" + Hash, 21_000_000UL)]
    [InlineData("spaces around either part are forgiven", " 42 : " + Hash + " ", 42UL)]
    public void A_well_formed_checkpoint_is_read(string proves, string value, ulong number)
    {
        var checkpoint = SyncCheckpoint.Parse(value, out var error);

        Assert.True(checkpoint is not null, $"{proves}: {error}");
        Assert.Equal(new SyncCheckpoint(number, Hash256.FromHex(Hash)), checkpoint);
    }

    [Theory]
    [InlineData("no colon", "21000000", "NUMBER:HASH")]
    [InlineData("no hash", "21000000:", "NUMBER:HASH")]
    [InlineData("no number", ":" + Hash, "NUMBER:HASH")]
    [InlineData("a number that is not one", "21e6:" + Hash, "not a number")]
    [InlineData("a negative number", "-1:" + Hash, "not a number")]
    [InlineData("block 0, the genesis", "0:" + Hash, "genesis")]
    [InlineData("a hash of 31 bytes", "42:0xab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd", "32 bytes")]
    [InlineData("a hash without 0x", "42:ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34", "32 bytes")]
    [InlineData("a hash that is not hex", "42:0x" + "zz12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34", "32 bytes")]
    public void A_malformed_checkpoint_is_refused_with_the_reason(string proves, string value, string reason)
    {
        var checkpoint = SyncCheckpoint.Parse(value, out var error);

        Assert.True(checkpoint is null, proves);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
