using System.Globalization;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Cli;

/// <summary>
/// Every model factory of <see cref="models"/> by name, found by reflection so that a factory added to the
/// library (e.g. <c>s4nd_demo</c>) is a valid <c>--model</c> without touching the command. A factory is a
/// public static method returning an image classifier (<c>nn.Module&lt;Tensor, Tensor&gt;</c>) whose
/// parameters all have defaults. Presets are the factories named <c>*_demo</c>: small models for 28x28
/// grey images.
/// </summary>
public static class ModelRegistry
{
    private static readonly Lazy<IReadOnlyDictionary<string, MethodInfo>> Factories = new(() =>
        typeof(models).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => typeof(nn.Module<Tensor, Tensor>).IsAssignableFrom(m.ReturnType) && !m.IsGenericMethod
                        && m.GetParameters().All(p => p.HasDefaultValue))
            .GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal));

    public static IEnumerable<string> Names => Factories.Value.Keys.Order(StringComparer.Ordinal);
    public static IEnumerable<string> Presets => Names.Where(n => n.EndsWith("_demo", StringComparison.Ordinal));

    public static bool IsPreset(string name) => name.EndsWith("_demo", StringComparison.Ordinal) && Factories.Value.ContainsKey(name);

    /// <summary>The factory called <paramref name="name"/>, or a one-line error listing the choices.</summary>
    /// <summary>Parses --model-arg values "name=value".</summary>
    public static IReadOnlyDictionary<string, string> ParseArgs(IEnumerable<string>? pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? Array.Empty<string>()) {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw new CliException($"--model-arg expects name=value, got '{pair}'");
            result[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return result;
    }

    public static ModelFactory Get(string name)
    {
        if (Factories.Value.TryGetValue(name, out var method)) return new ModelFactory(method);
        var close = Names.OrderBy(n => Distance(n, name)).First();
        throw new CliException($"unknown model '{name}'" + (Distance(close, name) <= Math.Max(2, name.Length / 3) ? $" (did you mean '{close}'?)" : "") +
                               $"; presets: {string.Join(", ", Presets)}; all: {string.Join(", ", Names)}");
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}

/// <summary>One factory method and how to call it for a data set.</summary>
public sealed class ModelFactory
{
    private readonly MethodInfo _method;

    internal ModelFactory(MethodInfo method) => _method = method;

    public string Name => _method.Name;

    /// <summary>The image side the factory builds for by default (its img_size default, else 224 for published models).</summary>
    public long DefaultImageSize => Parameter("img_size")?.DefaultValue is long s ? s : 224;

    /// <summary>Input channels the model takes for a data set with <paramref name="dataChannels"/>: factories without in_chans take RGB.</summary>
    public long InputChannels(long dataChannels) => Parameter("in_chans") is null ? 3 : dataChannels;

    public bool TakesImageSize => Parameter("img_size") is not null;

    /// <summary>
    /// Builds the model; num_classes, in_chans and img_size go to the factory where it has them, and
    /// <paramref name="overrides"/> (name=value, from --model-arg) set any other argument.
    /// </summary>
    public nn.Module<Tensor, Tensor> Create(long numClasses, long inChannels, long imageSize, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var values = new Dictionary<string, object> {
            ["num_classes"] = numClasses, ["in_chans"] = inChannels, ["img_size"] = imageSize,
        };
        var parameters = _method.GetParameters();
        foreach (var (key, text) in overrides ?? new Dictionary<string, string>()) {
            var p = parameters.FirstOrDefault(q => q.Name == key)
                ?? throw new CliException($"model {Name} has no argument '{key}'; it takes {string.Join(", ", parameters.Select(Describe))}");
            values[key] = ParseValue(p, text);
        }
        var args = parameters
            .Select(p => values.TryGetValue(p.Name!, out var v) ? Convert.ChangeType(v, p.ParameterType, CultureInfo.InvariantCulture) : p.DefaultValue)
            .ToArray();
        try {
            return (nn.Module<Tensor, Tensor>)_method.Invoke(null, args)!;
        } catch (TargetInvocationException e) when (e.InnerException is ArgumentException inner) {
            throw new CliException($"model {Name}: {inner.Message}", ExitCodes.UsageError, inner);
        }
    }

    /// <summary>The factory's arguments as "name: type = default".</summary>
    public IEnumerable<string> Arguments => _method.GetParameters().Select(Describe);

    private static string Describe(ParameterInfo p) => $"{p.Name} ({p.ParameterType.Name} = {p.DefaultValue ?? "null"})";

    private object ParseValue(ParameterInfo p, string text)
    {
        var type = p.ParameterType;
        try {
            if (type.IsEnum) return Enum.Parse(type, text, ignoreCase: true);
            if (type == typeof(bool)) return bool.Parse(text);
            return Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        } catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or InvalidCastException) {
            var choices = type.IsEnum ? $" ({string.Join(", ", Enum.GetNames(type))})" : "";
            throw new CliException($"model {Name}: argument {p.Name} expects a {type.Name}{choices}, got '{text}'");
        }
    }

    private ParameterInfo? Parameter(string name) => _method.GetParameters().FirstOrDefault(p => p.Name == name);
}
