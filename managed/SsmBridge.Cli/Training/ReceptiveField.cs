using System.Reflection;
using SsmBridge.Cli.Data;
using SsmBridge.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Training;

/// <summary>
/// Effective receptive field as in VMamba's analysis (after RepLKNet): for each image, the gradient of the
/// central output position of the last feature map, relu(features[:, :, H/2, W/2]).sum(), with respect to
/// the input; the positive part is summed over channels, averaged over images, then shown as
/// log10(1 + g) / max. The feature map is the backbone's output before pooling: VSSM's last stage
/// (patch_embed and layers); a model with a public <c>forward_features</c> gives its own (Vim's is the
/// class token, which sits in the middle of the token sequence, i.e. the central output).
/// </summary>
public static class ReceptiveField
{
    public static double[,] Compute(nn.Module<Tensor, Tensor> model, ImageSplit images, InputTransform transform, long count)
    {
        model.eval();
        var features = FeatureExtractor(model);
        long n = Math.Min(count, images.Count);
        Tensor? sum = null;
        for (long i = 0; i < n; i++) {
            using var noGc = NoGcRegion.Enter();
            using var scope = NewDisposeScope();
            var x = transform.Apply(images.Images.narrow(0, i, 1)).requires_grad_();
            var f = features(x);
            var central = f.dim() switch {
                4 when model is VSSM { ChannelFirst: false } => f[.., f.shape[1] / 2, f.shape[2] / 2, ..],
                4 => f[.., .., f.shape[2] / 2, f.shape[3] / 2],
                3 => f[.., f.shape[1] / 2, ..],
                2 => f,
                _ => throw new CliException($"erf: the feature map of this model has {f.dim()} dimensions (expected 2 to 4)"),
            };
            var grad = autograd.grad(new[] { nn.functional.relu(central).sum() }, new[] { x }, allow_unused: true)[0];
            if (grad is null || grad.IsInvalid) continue;
            var contribution = nn.functional.relu(grad).sum(new long[] { 0, 1 }).detach();
            if (sum is null) sum = contribution.MoveToOuterDisposeScope();
            else sum.add_(contribution);
        }
        if (sum is null) throw new CliException("erf: the model's output does not depend on its input");
        using var mean = sum / n;
        sum.Dispose();
        using var map = mean.add(1).log10();
        using var normalized = map / map.max().clamp_min(1e-12);
        var h = normalized.shape[0];
        var w = normalized.shape[1];
        var values = normalized.to_type(ScalarType.Float64).data<double>().ToArray();
        var result = new double[h, w];
        for (long r = 0; r < h; r++)
        for (long c = 0; c < w; c++) result[r, c] = values[r * w + c];
        return result;
    }

    /// <summary>Fraction of the total contribution inside the central square covering <paramref name="share"/> of the side.</summary>
    public static double CentralMass(double[,] map, double share)
    {
        int h = map.GetLength(0), w = map.GetLength(1);
        int rh = Math.Max(1, (int)Math.Round(h * share)), rw = Math.Max(1, (int)Math.Round(w * share));
        int r0 = (h - rh) / 2, c0 = (w - rw) / 2;
        double inside = 0, all = 0;
        for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            all += map[r, c];
            if (r >= r0 && r < r0 + rh && c >= c0 && c < c0 + rw) inside += map[r, c];
        }
        return all == 0 ? 0 : inside / all;
    }

    private static Func<Tensor, Tensor> FeatureExtractor(nn.Module<Tensor, Tensor> model)
    {
        var method = model.GetType().GetMethod("forward_features", BindingFlags.Public | BindingFlags.Instance, new[] { typeof(Tensor) });
        if (method is not null && method.ReturnType == typeof(Tensor))
            return x => (Tensor)method.Invoke(model, new object[] { x })!;
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        if (children.TryGetValue("patch_embed", out var embed) && embed is nn.Module<Tensor, Tensor> patchEmbed
            && children.TryGetValue("layers", out var layers)) {
            var stages = layers.children().OfType<nn.Module<Tensor, Tensor>>().ToArray();
            return x => {
                var f = patchEmbed.call(x);
                foreach (var stage in stages) f = stage.call(f);
                return f;
            };
        }
        throw new CliException($"erf: {model.GetType().Name} exposes no feature map (no forward_features, no patch_embed + layers)");
    }
}
