namespace EngineSkeleton.Server.Auth;

/// <summary>Secrets the node makes for itself (the JWT secret, the node key): written once, readable by the owner only.</summary>
internal static class SecretFile
{
    /// <summary>
    /// Writes <paramref name="content"/> to a new file at <paramref name="path"/> with mode 0600, creating its folder.
    /// False when the file appeared meanwhile (another process made it first: theirs wins, the caller reads it).
    /// </summary>
    public static bool TryCreate(string path, string content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(content);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }
}
