using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Vim's initialisation after construction (models_mamba.py): patch projection LeCun-normal, head
/// truncated-normal (std 0.02) with zero bias, position embedding and class token truncated-normal
/// (std 0.02), every Linear bias zero except the forward dt_proj.bias (Mamba's _no_reinit), and each
/// out_proj.weight Kaiming-uniform divided by sqrt(depth) (GPT-2's prenorm-residual rescaling).
/// </summary>
internal static class VimInit
{
    public static void Apply(nn.Module model, Conv2d patchProj, Linear? head, Parameter? clsToken, Parameter posEmbed, int depth)
    {
        using var noGrad = no_grad();
        var fanIn = patchProj.weight!.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        TruncatedNormal(patchProj.weight, Math.Sqrt(1.0 / fanIn) / 0.87962566103423978);
        patchProj.bias?.zero_();
        if (head is not null) {
            TruncatedNormal(head.weight!, 0.02);
            head.bias?.zero_();
        }
        TruncatedNormal(posEmbed, 0.02);
        if (clsToken is not null) TruncatedNormal(clsToken, 0.02);

        foreach (var (name, module) in model.named_modules())
            if (module is Linear linear && !name.EndsWith("mixer.dt_proj")) linear.bias?.zero_();
        foreach (var (name, parameter) in model.named_parameters()) {
            if (!name.EndsWith("out_proj.weight")) continue;
            nn.init.kaiming_uniform_(parameter, Math.Sqrt(5));
            parameter.div_(Math.Sqrt(depth));
        }
    }

    // Normal(0, std) truncated to [-2 std, 2 std].
    private static void TruncatedNormal(Tensor t, double std) => TruncNormal.Fill(t, 0, std, -2 * std, 2 * std);
}
