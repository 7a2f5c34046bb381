using EngineSkeleton.Fuzz.Targets;

namespace EngineSkeleton.Fuzz;

/// <summary>Every target, by name: the decoders of docs/fuzzing.md, in the order the docs list them.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } = [.. CoreTargets.All, .. ServerTargets.All, .. NetworkTargets.All, .. RpcPeerTargets.All];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
