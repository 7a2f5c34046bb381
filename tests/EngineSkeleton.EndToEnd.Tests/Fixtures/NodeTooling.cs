using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Node and npm from PATH, and the fixture packages (Fixtures/node/package-lock.json) installed once per checkout:
/// <c>npm ci</c> under a file lock, skipped while a stamp file holds the hash of the lock file and the Lodestar
/// unpack script. Every command has a time bound.
/// </summary>
public sealed class NodeTooling
{
    /// <summary>Cold <c>npm ci</c> takes ~30 s here; ten minutes covers a slow registry without hanging CI forever.</summary>
    public static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How long a second test process waits for the first one's install.</summary>
    public static readonly TimeSpan InstallLockTimeout = TimeSpan.FromMinutes(12);

    private const int MinimumNodeMajor = 20;
    private const string Requirement = "Node 20+ and npm are required for end-to-end tests";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static NodeTooling? s_installed;

    private NodeTooling(string nodePath, string npmPath, Version nodeVersion, string fixtureDirectory)
    {
        NodePath = nodePath;
        NpmPath = npmPath;
        NodeVersion = nodeVersion;
        FixtureDirectory = fixtureDirectory;
    }

    /// <summary>Absolute path of the <c>node</c> executable found on PATH.</summary>
    public string NodePath { get; }

    /// <summary>Absolute path of <c>npm</c> (npm.cmd on Windows) found on PATH.</summary>
    public string NpmPath { get; }

    public Version NodeVersion { get; }

    /// <summary>tests/EngineSkeleton.EndToEnd.Tests/Fixtures/node in the source tree (package.json, scripts, node_modules).</summary>
    public string FixtureDirectory { get; }

    /// <summary>
    /// Finds node and npm, and installs the fixture packages unless the stamp says they are current. Safe to call
    /// from many tests and many test processes at once; the work happens once.
    /// </summary>
    public static async Task<NodeTooling> EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        if (s_installed is { } done)
        {
            return done;
        }

        await InstallGate.WaitAsync(cancellationToken);
        try
        {
            if (s_installed is null)
            {
                var tooling = await LocateAsync(cancellationToken);
                await tooling.InstallAsync(cancellationToken);
                s_installed = tooling;
            }

            return s_installed;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Absolute path of a script in the fixture directory, e.g. <c>Script("drive.mjs")</c>.</summary>
    public string Script(string fileName) => Path.Combine(FixtureDirectory, fileName);

    /// <summary>Runs <c>node SCRIPT ARGS</c> in the fixture directory to completion, bounded by <paramref name="timeout"/>.</summary>
    public Task<ProcessResult> RunScriptAsync(string name, string script, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ProcessHandle.RunAsync(name, NodePath, [Script(script), .. arguments], timeout, FixtureDirectory, cancellationToken: cancellationToken);

    private static async Task<NodeTooling> LocateAsync(CancellationToken cancellationToken)
    {
        var node = FindOnPath(OperatingSystem.IsWindows() ? "node.exe" : "node")
                   ?? throw new InvalidOperationException($"{Requirement}: `node` was not found on PATH ({Environment.GetEnvironmentVariable("PATH")}). Install Node.js {MinimumNodeMajor} or later with npm.");
        var npm = FindOnPath(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
                  ?? throw new InvalidOperationException($"{Requirement}: `npm` was not found on PATH beside {node}. Install npm (it ships with Node.js).");
        var result = await ProcessHandle.RunAsync("node --version", node, ["--version"], TimeSpan.FromSeconds(30), cancellationToken: cancellationToken);
        var text = result.StandardOutput.FirstOrDefault()?.Trim().TrimStart('v') ?? string.Empty;
        if (result.ExitCode != 0 || !Version.TryParse(text, out var version))
        {
            throw new InvalidOperationException($"{Requirement}: `{node} --version` did not answer a version.\n{result.Diagnostics}");
        }

        if (version.Major < MinimumNodeMajor)
        {
            throw new InvalidOperationException($"{Requirement}: found Node {version} at {node}.");
        }

        return new NodeTooling(node, npm, version, LocateFixtureDirectory());
    }

    private static string? FindOnPath(string fileName)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory.Trim('"'), fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The csproj writes the source folder into assembly metadata: node_modules lives beside package.json, not in bin/.</summary>
    private static string LocateFixtureDirectory()
    {
        var directory = typeof(NodeTooling).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NodeFixtureDirectory")?.Value;
        if (directory is null || !File.Exists(Path.Combine(directory, "package-lock.json")))
        {
            throw new InvalidOperationException($"Fixture folder with package-lock.json not found (assembly metadata NodeFixtureDirectory = '{directory}').");
        }

        return Path.GetFullPath(directory);
    }

    private async Task InstallAsync(CancellationToken cancellationToken)
    {
        var stateDirectory = Path.Combine(FixtureDirectory, ".fixtures");
        Directory.CreateDirectory(stateDirectory);
        var stampFile = Path.Combine(stateDirectory, "install.stamp");
        var wanted = InstallKey();
        if (IsCurrent(stampFile, wanted))
        {
            return;
        }

        await using var fileLock = await AcquireFileLockAsync(Path.Combine(stateDirectory, "install.lock"), cancellationToken);
        if (IsCurrent(stampFile, wanted))
        {
            return; // another test process installed while this one waited
        }

        File.Delete(stampFile);
        var npmArgs = new[] { "--no-audit", "--no-fund", "--loglevel=error" };
        var ci = await ProcessHandle.RunAsync("npm ci", NpmPath, ["ci", .. npmArgs], InstallTimeout, FixtureDirectory, cancellationToken: cancellationToken);
        if (ci.ExitCode != 0)
        {
            // Known snag: npm ci refuses a lock file that lacks other platforms' optional packages (the registry here
            // serves only @crate-crypto/node-eth-kzg-linux-x64-gnu). npm install honours the same lock and, with
            // --no-save, leaves it untouched.
            var install = await ProcessHandle.RunAsync("npm install", NpmPath, ["install", "--no-save", .. npmArgs], InstallTimeout, FixtureDirectory, cancellationToken: cancellationToken);
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException($"Installing the end-to-end fixture packages failed.\n{ci.Diagnostics}\n{install.Diagnostics}");
            }
        }

        // The postinstall script unpacks Lodestar; run it again in case an npmrc has ignore-scripts (it is idempotent).
        var lodestar = await ProcessHandle.RunAsync("install-lodestar", NodePath, [Script("install-lodestar.mjs")], InstallTimeout, FixtureDirectory, cancellationToken: cancellationToken);
        if (lodestar.ExitCode != 0)
        {
            throw new InvalidOperationException($"Unpacking @lodestar/beacon-node failed.\n{lodestar.Diagnostics}");
        }

        if (!SentinelsPresent())
        {
            throw new InvalidOperationException($"npm reported success but the fixture packages are incomplete in {FixtureDirectory}/node_modules.");
        }

        await File.WriteAllTextAsync(stampFile, wanted, cancellationToken);
    }

    /// <summary>The lock file pins every npm package; install-lodestar.mjs pins the one tarball npm does not resolve.</summary>
    private string InstallKey()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in new[] { "package-lock.json", "install-lodestar.mjs" })
        {
            sha.AppendData(File.ReadAllBytes(Path.Combine(FixtureDirectory, file)));
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset()) + $" node {NodeVersion}";
    }

    private bool IsCurrent(string stampFile, string wanted) =>
        File.Exists(stampFile) && File.ReadAllText(stampFile, Encoding.UTF8) == wanted && SentinelsPresent();

    private bool SentinelsPresent() =>
        File.Exists(Path.Combine(FixtureDirectory, "node_modules", "@ethereumjs", "client", "dist", "esm", "bin", "cli.js"))
        && File.Exists(Path.Combine(FixtureDirectory, "node_modules", "@lodestar", "beacon-node", ".engineskeleton-integrity"));

    /// <summary>
    /// An exclusive lock on a file (flock on Unix, a share-none handle on Windows), held until disposed. There is no
    /// portable blocking wait on a file lock, so this retries every 250 ms up to <see cref="InstallLockTimeout"/>.
    /// </summary>
    internal static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(InstallLockTimeout);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"Another process held {path} for more than {InstallLockTimeout.TotalMinutes:F0} minutes.");
                }
            }
        }
    }
}
