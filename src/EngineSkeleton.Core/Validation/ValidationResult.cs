namespace EngineSkeleton.Core.Validation;

/// <summary>The outcome of a stateless check: valid, or the first rule broken, in words an operator can act on.</summary>
public readonly record struct ValidationResult(string? Error)
{
    public static ValidationResult Valid => default;

    public bool IsValid => Error is null;

    public static ValidationResult Invalid(string error) => new(error);
}
