using System.Collections.Frozen;
using System.Reflection;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// The methods one endpoint serves: every method of its targets marked <see cref="JsonRpcMethodAttribute"/> with a name,
/// and nothing else (a public helper on a target is not callable by accident). Built once at startup.
/// </summary>
internal sealed class RpcMethodTable
{
    private readonly (MethodInfo Method, object Target, JsonRpcMethodAttribute Attribute)[] _entries;
    private readonly FrozenDictionary<string, RpcArity> _arity;

    private RpcMethodTable((MethodInfo, object, JsonRpcMethodAttribute)[] entries)
    {
        _entries = entries;
        _arity = entries.ToFrozenDictionary(e => e.Item3.Name!, e => RpcArity.Of(e.Item1), StringComparer.Ordinal);
        Names = [.. _arity.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>Registered method names, sorted ordinally (what rpc_discover must agree with).</summary>
    public IReadOnlyList<string> Names { get; }

    public bool Contains(string method) => _arity.ContainsKey(method);

    /// <summary>How many positional arguments a method takes; false for an unknown method.</summary>
    public bool TryGetArity(string method, out RpcArity arity) => _arity.TryGetValue(method, out arity);

    /// <summary>Collects the attributed methods; a name served twice is a startup error.</summary>
    public static RpcMethodTable Build(IEnumerable<object> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var entries = new List<(MethodInfo, object, JsonRpcMethodAttribute)>();
        var seen = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            ArgumentNullException.ThrowIfNull(target, nameof(targets));
            var type = target.GetType();
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                var attribute = method.GetCustomAttribute<JsonRpcMethodAttribute>();
                if (attribute?.Name is not { Length: > 0 } name)
                {
                    continue;
                }

                if (name.StartsWith("rpc.", StringComparison.Ordinal) || name.StartsWith("$/", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"{type.Name}.{method.Name}: method name {name} is reserved");
                }

                if (!seen.TryAdd(name, type))
                {
                    throw new InvalidOperationException($"RPC method {name} is declared by both {seen[name].Name} and {type.Name}");
                }

                entries.Add((method, target, attribute));
            }
        }

        return new RpcMethodTable([.. entries]);
    }

    /// <summary>Registers every method on a <see cref="JsonRpc"/> that has not started listening.</summary>
    public void AddTo(JsonRpc rpc)
    {
        foreach (var (method, target, attribute) in _entries)
        {
            rpc.AddLocalRpcMethod(method, method.IsStatic ? null : target, attribute);
        }
    }
}

/// <summary>
/// Positional argument counts of a method, CancellationToken excluded. Parameters with defaults are optional: the
/// engine handlers declare <c>JsonElement x = default</c> so that a missing argument reaches them as Undefined and they
/// choose the -32602 message.
/// </summary>
internal readonly record struct RpcArity(int Required, int Max)
{
    public static RpcArity Of(MethodInfo method)
    {
        var parameters = method.GetParameters().Where(p => p.ParameterType != typeof(CancellationToken)).ToArray();
        var required = 0;
        for (var i = 0; i < parameters.Length; i++)
        {
            if (!parameters[i].IsOptional)
            {
                required = i + 1;
            }
        }

        return new RpcArity(required, parameters.Length);
    }
}
