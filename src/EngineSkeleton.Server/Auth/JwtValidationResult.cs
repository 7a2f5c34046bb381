namespace EngineSkeleton.Server.Auth;

/// <summary>Why a token was refused; the names follow geth's <c>node/jwt_handler.go</c> messages.</summary>
internal enum JwtFailure
{
    None = 0,
    /// <summary>No <c>Authorization: Bearer</c> header, or an empty token.</summary>
    Missing,
    /// <summary>Not a compact JWS, undecodable, or without an <c>iat</c> claim.</summary>
    Malformed,
    /// <summary>Signature does not verify with our secret, or the algorithm is not HS256 (incl. <c>none</c>).</summary>
    BadSignature,
    /// <summary><c>iat</c> more than 60 s in the past.</summary>
    Stale,
    /// <summary><c>iat</c> more than 60 s in the future.</summary>
    Future,
    /// <summary><c>exp</c> present and not after now.</summary>
    Expired,
}

/// <summary>The outcome of checking one token: <see cref="Failure"/> is <see cref="JwtFailure.None"/> when accepted.</summary>
internal readonly record struct JwtValidationResult(JwtFailure Failure, string Message)
{
    public static JwtValidationResult Ok { get; } = new(JwtFailure.None, "ok");

    public bool IsValid => Failure == JwtFailure.None;

    public static JwtValidationResult Fail(JwtFailure failure, string message) => new(failure, message);
}
