using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Domain.Extensions;
using ArchUnitNET.Fluent.Syntax.Elements.Types;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace EngineSkeleton.Architecture.Tests;

/// <summary>
/// The dependency rules of docs/architecture.md. Each is checked on the references (the project file, so that a
/// reference nobody uses yet is caught when it is added, and the built assembly's own list) and on the types of the
/// built assembly (so that a dependency through an allowed reference, such as the sync engine's internals seen from
/// a transport, is caught when it is written).
/// </summary>
public sealed class LayerTests
{
    private const string AspNetCore = "Microsoft.AspNetCore";
    private const string StreamJsonRpc = "StreamJsonRpc";
    private const string Testing = "EngineSkeleton.Testing";

    [Fact]
    public void Primitives_reference_nothing_of_ours()
    {
        const string Guards = "hashes, RLP, headers and keccak sit at the bottom: everything may use them and they use nothing of ours";
        ShouldNotReference(Product.Core, Guards, "EngineSkeleton");
        TypesOf(Product.Core).Should()
            .NotDependOnAny(Under(["EngineSkeleton"], except: [Product.Core]))
            .Because(Guards).Check(Product.Model);
    }

    [Fact]
    public void Storage_references_neither_sync_network_nor_host()
    {
        const string Guards = "the stores keep bytes and progress for whoever writes them; they know no sync, transport or host";
        string[] forbidden = [Product.Sync, Product.Network, Product.Server, AspNetCore];
        ShouldNotReference(Product.Storage, Guards, forbidden);
        TypesOf(Product.Storage).Should().NotDependOnAny(Under(forbidden)).Because(Guards).Check(Product.Model);
    }

    [Fact]
    public void The_sync_engine_references_no_host_no_StreamJsonRpc_and_no_transport()
    {
        const string Guards = "the sync engine runs under any host and over any transport, through the peer contract it owns";
        string[] forbidden = [AspNetCore, StreamJsonRpc, Product.Network, Product.Server];
        ShouldNotReference(Product.Sync, Guards, forbidden);
        TypesOf(Product.Sync).Should().NotDependOnAny(Under(forbidden)).Because(Guards).Check(Product.Model);
    }

    [Fact]
    public void Transports_reference_no_host_and_of_the_sync_engine_only_the_peer_contract()
    {
        const string Guards = "a transport implements ISyncPeer for the sync engine; it must not reach into the skeleton, the "
            + "backfiller or the beacon facade, nor into the host that composes it";
        ShouldNotReference(Product.Network, Guards, Product.Server, AspNetCore);
        TypesOf(Product.Network).Should()
            .NotDependOnAny(Under([Product.Server, AspNetCore]))
            .AndShould().NotDependOnAny(Under([Product.Sync], except: [Product.Sync + ".Peers"]))
            .Because(Guards).Check(Product.Model);
    }

    [Fact]
    public void Engine_API_handlers_reach_the_sync_only_through_the_beacon_facade()
    {
        const string Guards = "the Engine API hands heads to BeaconSync and reads its status there; the skeleton, backfiller "
            + "and peers behind it may change without touching the handlers";
        Types().That().ResideInNamespaceMatching(UnderPattern([Product.Server + ".Engine"]))
            .As("types in " + Product.Server + ".Engine.*").Should().NotDependOnAny(Under([Product.Sync], except: [Product.Sync + ".Beacon"]))
            .Because(Guards).Check(Product.Model);
    }

    [Theory]
    [InlineData(Product.Core)]
    [InlineData(Product.Storage)]
    [InlineData(Product.Sync)]
    [InlineData(Product.Network)]
    [InlineData(Product.Server)]
    public void No_product_assembly_references_the_test_machinery_or_xunit(string assembly)
    {
        const string Guards = "test machinery (generators, faulty peers, the fake node) and test frameworks never ship in the product";
        ShouldNotReference(assembly, Guards, Testing, "xunit", "Microsoft.NET.Test.Sdk");
        TypesOf(assembly).Should().NotDependOnAny(Under([Testing, "Xunit"])).Because(Guards).Check(Product.Model);
    }

    [Theory]
    [InlineData("a transport implements the peer contract", Product.Network, Product.Sync + ".Peers")]
    [InlineData("the Engine API handlers hand heads to the beacon facade", Product.Server + ".Engine", Product.Sync + ".Beacon")]
    [InlineData("the host is ASP.NET Core", Product.Server, AspNetCore)]
    [InlineData("the stores are LiteDB's", Product.Storage, "LiteDB")]
    public void The_model_sees_the_dependencies_the_rules_are_about(string proves, string from, string to)
    {
        // Without this, a loader that saw no dependency would let every rule above pass.
        var seen = Product.Model.Types
            .Where(type => Regex.IsMatch(type.Namespace.FullName, UnderPattern([from])))
            .SelectMany(type => type.GetTypeDependencies())
            .Any(dependency => Regex.IsMatch(dependency.Namespace?.FullName ?? "", UnderPattern([to])));
        Assert.True(seen, proves);
    }

    private static GivenTypesConjunctionWithDescription TypesOf(string assembly) =>
        Types().That().ResideInAssembly(Product.Load(assembly)).As("types of " + assembly);

    /// <summary>Types, ours or referenced, in any namespace under <paramref name="roots"/> but not under <paramref name="except"/>.</summary>
    private static IObjectProvider<IType> Under(string[] roots, string[]? except = null)
    {
        var description = "types in " + string.Join(", ", roots.Select(r => r + ".*"));
        var types = Types(includeReferenced: true).That().ResideInNamespaceMatching(UnderPattern(roots));
        return except is null
            ? types.As(description)
            : types.And().DoNotResideInNamespaceMatching(UnderPattern(except))
                .As(description + " outside " + string.Join(", ", except.Select(e => e + ".*")));
    }

    /// <summary>A namespace equal to one of <paramref name="roots"/> or inside it, case-insensitive (xunit's is Xunit).</summary>
    private static string UnderPattern(string[] roots) =>
        $"(?i)^(?:{string.Join('|', roots.Select(Regex.Escape))})(?:\\.|$)";

    private static void ShouldNotReference(string assembly, string guards, params string[] forbidden)
    {
        bool IsForbidden(string reference) => forbidden.Any(root => reference.Equals(root, StringComparison.OrdinalIgnoreCase)
            || reference.StartsWith(root + ".", StringComparison.OrdinalIgnoreCase));

        var inProject = Product.ProjectReferences(assembly).Where(IsForbidden).ToList();
        Assert.True(inProject.Count == 0, $"{assembly}.csproj references {string.Join(", ", inProject)}, but {guards}.");

        var inAssembly = Product.Load(assembly).GetReferencedAssemblies().Select(a => a.Name!).Where(IsForbidden).ToList();
        Assert.True(inAssembly.Count == 0, $"{assembly}.dll references {string.Join(", ", inAssembly)}, but {guards}.");
    }
}
