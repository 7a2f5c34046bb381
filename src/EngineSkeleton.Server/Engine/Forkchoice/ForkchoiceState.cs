using System.Text.Json;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Engine.Wire;

namespace EngineSkeleton.Server.Engine.Forkchoice;

/// <summary>ForkchoiceStateV1 (paris.md): all three hashes required; zero safe/finalized mean "none yet".</summary>
internal sealed record ForkchoiceState(Hash256 Head, Hash256 Safe, Hash256 Finalized)
{
    public static ForkchoiceState Parse(JsonElement element)
    {
        var o = Params.RequireObject(element, "forkchoiceState");
        return new ForkchoiceState(
            Params.Hash(o, "headBlockHash"),
            Params.Hash(o, "safeBlockHash"),
            Params.Hash(o, "finalizedBlockHash"));
    }
}
