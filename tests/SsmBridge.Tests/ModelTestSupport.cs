using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

/// <summary>The official checkpoints' state-dict keys and shapes (tests/SsmBridge.Tests/data/*.tsv).</summary>
internal static class CheckpointKeys
{
    public static IReadOnlyList<(string Key, long[] Shape)> Read(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", name + ".tsv");
        return File.ReadLines(path)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Select(parts => (parts[0], parts[1].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray()))
            .ToList();
    }
}

internal static class ModelAssert
{
    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());

    /// <summary>max |a - b| / max |b|, or / scale when one is given.</summary>
    public static double RelativeError(Tensor actual, Tensor expected, double? scale = null)
    {
        using var scope = NewDisposeScope();
        var a = actual.to_type(ScalarType.Float64);
        var e = expected.to_type(ScalarType.Float64);
        var by = scale ?? Math.Max(e.abs().max().item<double>(), 1e-30);
        return (a - e).abs().max().item<double>() / by;
    }

    /// <summary>Same shape and bitwise-equal values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>
    /// Every parameter's gradient in <paramref name="actual"/> is within <paramref name="tolerance"/> (relative,
    /// <see cref="RelativeError"/>) of the same-named parameter's gradient in <paramref name="expected"/>;
    /// <paramref name="context"/> is appended to a failure's message.
    /// </summary>
    public static void GradientsAgree(nn.Module actual, nn.Module expected, double tolerance, string context = "")
    {
        var expectedParams = expected.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in actual.named_parameters()) {
            var err = RelativeError(p.grad!, expectedParams[name].grad!);
            Assert.True(err < tolerance, $"{name}: gradient relative error {err:E2}{context}");
        }
    }

    /// <summary>Copies every parameter and buffer of <paramref name="from"/> into <paramref name="to"/>.</summary>
    public static void CopyWeights(nn.Module from, nn.Module to)
    {
        var source = from.state_dict();
        using var noGrad = no_grad();
        foreach (var (key, t) in to.state_dict()) t.copy_(source[key]);
    }
}
