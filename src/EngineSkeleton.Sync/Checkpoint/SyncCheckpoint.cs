using System.Globalization;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Sync.Checkpoint;

/// <summary>
/// <c>--sync.checkpoint NUMBER:HASH</c> (README.md (flags)): a trusted post-merge block the local chain starts from instead
/// of the genesis. The skeleton links to it; nothing below it is fetched or needed.
/// </summary>
public sealed record SyncCheckpoint(ulong Number, Hash256 Hash)
{
    /// <summary>
    /// Parses <c>NUMBER:HASH</c>: a decimal (or 0x-hex) block number above 0 and a 32-byte 0x-hex hash. Returns the
    /// checkpoint, or null with the reason in <paramref name="error"/>.
    /// </summary>
    public static SyncCheckpoint? Parse(string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            error = "is not NUMBER:HASH";
            return null;
        }
        var numberText = value[..colon].Trim();
        var parsed = numberText.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(numberText.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var number)
            : ulong.TryParse(numberText, NumberStyles.None, CultureInfo.InvariantCulture, out number);
        if (!parsed)
        {
            error = $"has a block number '{numberText}' that is not a number";
            return null;
        }
        if (number == 0)
        {
            error = "is block 0: the genesis is the anchor without a checkpoint";
            return null;
        }
        var hashText = value[(colon + 1)..].Trim();
        if (!hashText.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || !Hash256.TryParse(hashText, out var hash))
        {
            error = $"has a hash '{hashText}' that is not 32 bytes of 0x-hex";
            return null;
        }
        error = null;
        return new SyncCheckpoint(number, hash);
    }

    public override string ToString() => $"#{Number} {Hash}";
}
