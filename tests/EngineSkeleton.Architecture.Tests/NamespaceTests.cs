using System.CodeDom.Compiler;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace EngineSkeleton.Architecture.Tests;

public sealed partial class NamespaceTests
{
    /// <summary>
    /// Guards that a newcomer finds a type by its namespace: every source file under src/ declares one file-scoped
    /// namespace, its folder's (EngineSkeleton.Server/Engine/Forkchoice → EngineSkeleton.Server.Engine.Forkchoice),
    /// and no type of a product assembly sits outside those folder namespaces (a file with no namespace puts its
    /// types in the global one).
    /// </summary>
    [Theory]
    [InlineData(Product.Core)]
    [InlineData(Product.Storage)]
    [InlineData(Product.Sync)]
    [InlineData(Product.Network)]
    [InlineData(Product.Server)]
    public void Namespace_is_folder_for_every_type_in_src(string assembly)
    {
        var source = Product.SourceFolder(assembly);
        var files = source.EnumerateFiles("*.cs", SearchOption.AllDirectories)
            .Where(file => !IsBuildOutput(Path.GetRelativePath(source.FullName, file.FullName)))
            .ToList();
        var folderNamespaces = files.Select(file => FolderNamespace(assembly, source, file)).ToHashSet();

        var misplacedFiles = files
            .Select(file => (file, declared: Declarations().Matches(File.ReadAllText(file.FullName))))
            .Where(f => f.declared.Count > 0)
            .Where(f => f.declared is not [{ Groups: var g }]
                || g["end"].Value != ";"
                || g["name"].Value != FolderNamespace(assembly, source, f.file))
            .Select(f => $"{Path.GetRelativePath(Product.Root.FullName, f.file.FullName)} declares "
                + string.Join(", ", f.declared.Select(d => d.Value.Trim()))
                + $" where its folder says namespace {FolderNamespace(assembly, source, f.file)};");

        var misplacedTypes = Product.Load(assembly).GetTypes()
            .Where(type => !type.IsNested && !IsGenerated(type))
            .Where(type => type.Namespace is null || !folderNamespaces.Contains(type.Namespace))
            .Select(type => $"{type.FullName} is in namespace '{type.Namespace}', which is no folder of src/{assembly}");

        var misplaced = misplacedFiles.Concat(misplacedTypes).ToList();
        Assert.True(misplaced.Count == 0, string.Join('\n', misplaced));
    }

    private static string FolderNamespace(string assembly, DirectoryInfo source, FileInfo file)
    {
        var folder = Path.GetRelativePath(source.FullName, file.DirectoryName!);
        return folder == "." ? assembly : assembly + "." + folder.Replace(Path.DirectorySeparatorChar, '.');
    }

    private static bool IsBuildOutput(string relativePath) =>
        relativePath.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj";

    /// <summary>The compiler's own types (&lt;Module&gt;, EmbeddedAttribute, NullableAttribute) and source generators' (Regex).</summary>
    private static bool IsGenerated(Type type) =>
        type.Name.StartsWith('<')
        || type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
        || type.IsDefined(typeof(GeneratedCodeAttribute), inherit: false);

    [GeneratedRegex(@"^[ \t]*namespace[ \t]+(?<name>[\w.]+)[ \t]*(?<end>[;{]?)", RegexOptions.Multiline)]
    private static partial Regex Declarations();
}
