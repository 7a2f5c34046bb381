using System.Globalization;
using System.Text;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>
/// A parser of the Prometheus text exposition format (version 0.0.4, prometheus.io/docs/instrumenting/exposition_formats),
/// strict where a scraper is: metric and label names by the spec's grammar, label values with their three escapes,
/// float values (NaN, ±Inf), optional timestamps, one TYPE per family before its samples, a family's samples
/// together, and histograms whose buckets carry <c>le</c>, never decrease, and end at <c>+Inf</c> equal to
/// <c>_count</c>. Throws <see cref="FormatException"/> naming the line.
/// </summary>
internal static class PrometheusText
{
    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    internal sealed record Family(string Name, string Type, string? Help, List<Sample> Samples);

    public static IReadOnlyDictionary<string, Family> Parse(string text)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal); // families whose samples have ended
        Family? current = null;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }
            if (line.StartsWith('#'))
            {
                var parts = line[1..].TrimStart().Split(' ', 3);
                if (parts.Length >= 2 && parts[0] is "HELP" or "TYPE")
                {
                    var name = parts[1];
                    RequireMetricName(name, lineNumber);
                    var family = Open(families, closed, ref current, name, lineNumber);
                    if (parts[0] == "TYPE")
                    {
                        var type = parts.Length == 3 ? parts[2].Trim() : throw Error(lineNumber, "TYPE without a type");
                        if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                        {
                            throw Error(lineNumber, $"unknown type '{type}'");
                        }
                        if (family.Type != "untyped" || family.Samples.Count > 0)
                        {
                            throw Error(lineNumber, $"TYPE for {name} after its samples or a second time");
                        }
                        families[name] = current = family with { Type = type };
                    }
                    else
                    {
                        if (family.Help is not null)
                        {
                            throw Error(lineNumber, $"a second HELP for {name}");
                        }
                        families[name] = current = family with { Help = Unescape(parts.Length == 3 ? parts[2] : "", lineNumber, help: true) };
                    }
                }
                continue; // other comments are allowed
            }
            var sample = ParseSample(line, lineNumber);
            var familyName = FamilyOf(sample.Name, families);
            var owner = Open(families, closed, ref current, familyName, lineNumber);
            if (owner.Type == "counter" && sample.Value < 0)
            {
                throw Error(lineNumber, $"counter {sample.Name} is negative");
            }
            if (owner.Type == "histogram" && sample.Name != familyName + "_bucket" && sample.Name != familyName + "_sum" && sample.Name != familyName + "_count")
            {
                throw Error(lineNumber, $"histogram {familyName} has a sample {sample.Name}");
            }
            owner.Samples.Add(sample);
        }
        foreach (var family in families.Values.Where(f => f.Type == "histogram"))
        {
            CheckHistogram(family);
        }
        return families;
    }

    /// <summary>The value of the one sample with this name and exactly these labels; null if there is none.</summary>
    public static double? Value(this IReadOnlyDictionary<string, Family> families, string name, params (string Key, string Value)[] labels)
    {
        foreach (var family in families.Values)
        {
            foreach (var sample in family.Samples)
            {
                if (sample.Name == name && sample.Labels.Count == labels.Length && labels.All(l => sample.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
                {
                    return sample.Value;
                }
            }
        }
        return null;
    }

    private static Family Open(Dictionary<string, Family> families, HashSet<string> closed, ref Family? current, string name, int line)
    {
        if (current is not null && current.Name != name)
        {
            closed.Add(current.Name);
        }
        if (closed.Contains(name))
        {
            throw Error(line, $"the lines of {name} are not together");
        }
        if (!families.TryGetValue(name, out var family))
        {
            family = new Family(name, "untyped", null, []);
            families[name] = family;
        }
        current = family;
        return family;
    }

    /// <summary>A histogram's or summary's sample belongs to the family without its suffix, if that family was declared.</summary>
    private static string FamilyOf(string sample, Dictionary<string, Family> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sample[..^suffix.Length], out var f) && f.Type is "histogram" or "summary")
            {
                return f.Name;
            }
        }
        return sample;
    }

    private static void CheckHistogram(Family family)
    {
        var series = family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
        foreach (var group in series)
        {
            var buckets = group.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToList();
            var count = group.SingleOrDefault(s => s.Name.EndsWith("_count", StringComparison.Ordinal))
                ?? throw new FormatException($"histogram {family.Name}{{{group.Key}}} has no _count");
            _ = group.SingleOrDefault(s => s.Name.EndsWith("_sum", StringComparison.Ordinal)) ?? throw new FormatException($"histogram {family.Name}{{{group.Key}}} has no _sum");
            var previousBound = double.NegativeInfinity;
            var previousCount = 0.0;
            foreach (var bucket in buckets)
            {
                if (!bucket.Labels.TryGetValue("le", out var le))
                {
                    throw new FormatException($"bucket of {family.Name} without le");
                }
                var bound = ParseFloat(le) ?? throw new FormatException($"bucket of {family.Name} with le '{le}'");
                if (bound <= previousBound || bucket.Value < previousCount)
                {
                    throw new FormatException($"buckets of {family.Name}{{{group.Key}}} out of order at le={le}");
                }
                (previousBound, previousCount) = (bound, bucket.Value);
            }
            if (!double.IsPositiveInfinity(previousBound) || previousCount != count.Value)
            {
                throw new FormatException($"histogram {family.Name}{{{group.Key}}} does not end at le=+Inf equal to its _count");
            }
        }
    }

    private static Sample ParseSample(string line, int lineNumber)
    {
        var i = 0;
        var name = ReadName(line, ref i, metric: true) ?? throw Error(lineNumber, "no metric name");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                SkipSpaces(line, ref i);
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }
                var label = ReadName(line, ref i, metric: false) ?? throw Error(lineNumber, "bad label name");
                SkipSpaces(line, ref i);
                if (i >= line.Length || line[i] != '=')
                {
                    throw Error(lineNumber, $"label {label} without '='");
                }
                i++;
                SkipSpaces(line, ref i);
                if (i >= line.Length || line[i] != '"')
                {
                    throw Error(lineNumber, $"label {label} value not quoted");
                }
                i++;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw Error(lineNumber, $"label {label} value not closed");
                    }
                    var c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }
                    if (c == '\\')
                    {
                        if (i >= line.Length)
                        {
                            throw Error(lineNumber, "escape at end of line");
                        }
                        value.Append(line[i++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var other => throw Error(lineNumber, $"unknown escape \\{other}"),
                        });
                        continue;
                    }
                    value.Append(c);
                }
                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw Error(lineNumber, $"label {label} twice");
                }
                SkipSpaces(line, ref i);
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
                else if (i < line.Length && line[i] != '}')
                {
                    throw Error(lineNumber, "labels not separated by ','");
                }
            }
        }
        if (i >= line.Length || line[i] is not (' ' or '\t'))
        {
            throw Error(lineNumber, "no space before the value");
        }
        var rest = line[i..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is 0 or > 2)
        {
            throw Error(lineNumber, "a value and at most a timestamp must follow");
        }
        var number = ParseFloat(rest[0]) ?? throw Error(lineNumber, $"value '{rest[0]}' is not a float");
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw Error(lineNumber, $"timestamp '{rest[1]}' is not an integer");
        }
        return new Sample(name, labels, number);
    }

    private static double? ParseFloat(string text) => text switch
    {
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null,
    };

    private static string? ReadName(string line, ref int i, bool metric)
    {
        var start = i;
        while (i < line.Length && (char.IsAsciiLetter(line[i]) || line[i] == '_' || (metric && line[i] == ':') || (i > start && char.IsAsciiDigit(line[i]))))
        {
            i++;
        }
        return i > start ? line[start..i] : null;
    }

    private static void RequireMetricName(string name, int line)
    {
        var i = 0;
        if (ReadName(name, ref i, metric: true) != name)
        {
            throw Error(line, $"'{name}' is not a metric name");
        }
    }

    private static void SkipSpaces(string line, ref int i)
    {
        while (i < line.Length && line[i] is ' ' or '\t')
        {
            i++;
        }
    }

    private static string Unescape(string text, int line, bool help)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }
            if (++i >= text.Length)
            {
                throw Error(line, "escape at end of HELP");
            }
            result.Append(text[i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                var other when !help && other == '"' => '"',
                var other => throw Error(line, $"unknown escape \\{other} in HELP"),
            });
        }
        return result.ToString();
    }

    private static FormatException Error(int line, string message) => new($"line {line}: {message}");
}
