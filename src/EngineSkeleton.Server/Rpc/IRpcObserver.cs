using EngineSkeleton.Server.Auth;

namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// What an endpoint tells the node's metrics and diagnostics about its traffic: every dispatched call with its
/// outcome and time, and on a JWT endpoint every request's authentication. Called on the request's thread; must not
/// block or throw.
/// </summary>
internal interface IRpcObserver
{
    /// <summary>A call reached its target: <paramref name="errorCode"/> is null for a result, else the JSON-RPC error code.</summary>
    void Called(string endpoint, string method, int? errorCode, TimeSpan elapsed);

    /// <summary>A request to a JWT endpoint was authenticated (<see cref="JwtValidationResult.IsValid"/>) or refused, and why.</summary>
    void Authenticated(string endpoint, JwtValidationResult result);
}
