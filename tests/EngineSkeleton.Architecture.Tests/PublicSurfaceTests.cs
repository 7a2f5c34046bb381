using System.Text.RegularExpressions;

namespace EngineSkeleton.Architecture.Tests;

public sealed partial class PublicSurfaceTests
{
    /// <summary>
    /// Guards that the product's public types are the ones a user or the host needs, and that docs/architecture.md says
    /// which: every exported type of the five assemblies is listed in its "Public types" table, and every type listed
    /// there is exported. Making a type public, or internal, means changing that table in the same commit.
    /// </summary>
    [Fact]
    public void Public_types_are_the_ones_docs_architecture_lists()
    {
        var exported = Product.AssemblyNames
            .SelectMany(name => Product.Load(name).GetExportedTypes())
            .Select(type => type.FullName!.Replace('+', '.'))
            .Where(name => !name.Contains('<', StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var listed = Listed().ToHashSet(StringComparer.Ordinal);

        Assert.True(listed.Count > 40, $"the table in docs/architecture.md was not found or read ({listed.Count} types)");
        var unlisted = exported.Except(listed).Order().ToList();
        var notPublic = listed.Except(exported).Order().ToList();
        Assert.True(unlisted.Count == 0, "public but not listed in docs/architecture.md: " + string.Join(", ", unlisted));
        Assert.True(notPublic.Count == 0, "listed in docs/architecture.md but not public: " + string.Join(", ", notPublic));
    }

    /// <summary>
    /// The table's rows: <c>| `EngineSkeleton.X` | `Namespace` | `Type`, `Type.Nested` |</c>, an empty first cell
    /// continuing the assembly above, <c>(root)</c> for the assembly's root namespace.
    /// </summary>
    private static IEnumerable<string> Listed()
    {
        var text = File.ReadAllText(Path.Combine(Product.Root.FullName, "docs", "architecture.md"));
        var section = text[text.IndexOf("## Public types", StringComparison.Ordinal)..];
        var assembly = "";
        foreach (Match row in Row().Matches(section))
        {
            if (row.Groups["assembly"].Value.Length > 0)
            {
                assembly = row.Groups["assembly"].Value;
            }
            var ns = row.Groups["ns"].Value == "(root)" ? assembly : $"{assembly}.{row.Groups["ns"].Value}";
            foreach (Match type in Code().Matches(row.Groups["types"].Value))
            {
                yield return $"{ns}.{type.Groups[1].Value}";
            }
        }
    }

    [GeneratedRegex(@"^\| (?:`(?<assembly>EngineSkeleton\.\w+)`)? *\| `?(?<ns>[\w.()]+)`? \| (?<types>.+) \|$", RegexOptions.Multiline)]
    private static partial Regex Row();

    [GeneratedRegex(@"`([\w.]+)`")]
    private static partial Regex Code();
}
