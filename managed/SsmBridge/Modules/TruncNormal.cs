using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Normal(mean, std) truncated to [a, b], by inverse-CDF sampling as PyTorch's and timm's trunc_normal_.
/// TorchSharp 0.107's nn.init.trunc_normal_ does not sample that distribution (it fills every element
/// with 0.02 for mean 0, std 0.02, a = -2, b = 2, and with 1 for mean 0, std 1), so models call this.
/// </summary>
internal static class TruncNormal
{
    public static Tensor Fill(Tensor t, double mean, double std, double a, double b)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double lower = Cdf((a - mean) / std), upper = Cdf((b - mean) / std);
        t.uniform_(2 * lower - 1, 2 * upper - 1).erfinv_().mul_(std * Math.Sqrt(2)).add_(mean).clamp_(a, b);
        return t;
    }

    // Standard normal CDF, in double precision through libtorch's erf.
    private static double Cdf(double x)
    {
        using var v = tensor(x / Math.Sqrt(2), ScalarType.Float64);
        return (1 + v.erf().item<double>()) / 2;
    }
}
