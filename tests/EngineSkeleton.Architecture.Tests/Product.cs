using System.Reflection;
using System.Xml.Linq;
using ArchUnitNET.Loader;
using ArchitectureModel = ArchUnitNET.Domain.Architecture;

namespace EngineSkeleton.Architecture.Tests;

/// <summary>The product assemblies under src/, as the architecture tests read them.</summary>
internal static class Product
{
    public const string Core = "EngineSkeleton.Core";
    public const string Storage = "EngineSkeleton.Storage";
    public const string Sync = "EngineSkeleton.Sync";
    public const string Network = "EngineSkeleton.Network";
    public const string Server = "EngineSkeleton.Server";

    public static readonly string[] AssemblyNames = [Core, Storage, Sync, Network, Server];

    /// <summary>
    /// Every type of the five assemblies with its dependencies (fields, signatures, attributes, calls and locals in
    /// method bodies), read once by ArchUnitNET. Types of other assemblies appear as referenced types.
    /// </summary>
    public static ArchitectureModel Model { get; } =
        new ArchLoader().LoadAssemblies([.. AssemblyNames.Select(Load)]).Build();

    /// <summary>The repository checkout the tests were built from: the first folder up holding the solution.</summary>
    public static DirectoryInfo Root { get; } = FindRoot();

    /// <summary>Loaded by name rather than through a type of each, so making a type internal cannot break the tests.</summary>
    public static Assembly Load(string name) => Assembly.Load(new AssemblyName(name));

    public static DirectoryInfo SourceFolder(string assembly) => new(Path.Combine(Root.FullName, "src", assembly));

    /// <summary>
    /// What a product project file brings in: its project references (by assembly name), package references,
    /// framework references, and the ASP.NET Core shared framework when it uses the Web SDK.
    /// </summary>
    public static IReadOnlyList<string> ProjectReferences(string assembly)
    {
        var path = Path.Combine(SourceFolder(assembly).FullName, assembly + ".csproj");
        var project = XDocument.Load(path).Root!;
        var references = project.Descendants()
            .Where(e => e.Name.LocalName is "ProjectReference" or "PackageReference" or "FrameworkReference")
            .Select(e => (string)e.Attribute("Include")!)
            .Select(include => include.EndsWith(".csproj", StringComparison.Ordinal)
                ? Path.GetFileNameWithoutExtension(include.Replace('\\', '/'))
                : include)
            .ToList();
        if ((string?)project.Attribute("Sdk") == "Microsoft.NET.Sdk.Web")
            references.Add("Microsoft.AspNetCore.App");
        return references;
    }

    private static DirectoryInfo FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EngineSkeleton.sln")))
                return dir;
        }
        throw new InvalidOperationException($"no EngineSkeleton.sln above {AppContext.BaseDirectory}");
    }
}
