using System.Globalization;
using System.Text;

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// A sub-protocol a node speaks, as Hello lists it: a short ASCII name (at most eight characters, rlpx.md) and a
/// version, e.g. eth/68. Names from peers are taken as sent; <see cref="Validate"/> checks ours.
/// </summary>
public readonly record struct Capability(string Name, uint Version)
{
    /// <summary>Longest capability name rlpx.md allows.</summary>
    public const int MaxNameLength = 8;

    public void Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Length > MaxNameLength || !Ascii.IsValid(Name))
        {
            throw new ArgumentException($"a capability name is 1 to {MaxNameLength} ASCII characters, got '{Name}'");
        }
    }

    public override string ToString() => $"{Name}/{Version.ToString(CultureInfo.InvariantCulture)}";
}
