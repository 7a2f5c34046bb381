using EngineSkeleton.Testing.Storage;

namespace EngineSkeleton.Storage.Tests;

/// <summary>A fact that needs a small real filesystem to fill; reported as skipped, with the reason, where none can be mounted.</summary>
public sealed class SmallFilesystemFactAttribute : FactAttribute
{
    public SmallFilesystemFactAttribute()
    {
        if (SmallFilesystem.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
