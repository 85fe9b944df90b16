using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// One scan direction of a Mamba mixer, from the conv input x (batch, d_inner, L) and the gate z:
/// depthwise conv + SiLU, x_proj to (dt, B, C), dt_proj's weight (its bias goes to the kernel as
/// delta_bias), and the selective scan with softplus, D and z. The backward direction runs on the
/// original order: its causal conv over the flipped sequence is an anti-causal conv with the taps
/// reversed, and the scan runs with reverse: true, so no flipped copy of any sequence is made.
/// </summary>
internal static class MambaDirection
{
    public static Tensor Forward(Tensor x, Tensor z, Conv1d conv, Linear xProj, Linear dtProj, Tensor aLog, Tensor d,
                                 long dtRank, long dState, bool reverse, ScanImplementation scan)
    {
        using var scope = NewDisposeScope();
        long L = x.shape[2], k = conv.weight!.shape[2], channels = x.shape[1];
        var weight = reverse ? conv.weight.flip(-1) : conv.weight;
        var padded = nn.functional.conv1d(x, weight, conv.bias, padding: k - 1, groups: channels);
        var xc = nn.functional.silu(padded.narrow(2, reverse ? k - 1 : 0, L));

        var xDbl = xProj.forward(xc.transpose(1, 2));  // (batch, L, dt_rank + 2 d_state)
        var dt = xDbl.narrow(-1, 0, dtRank);
        var B = xDbl.narrow(-1, dtRank, dState).transpose(1, 2).unsqueeze(1);           // (batch, 1, N, L)
        var C = xDbl.narrow(-1, dtRank + dState, dState).transpose(1, 2).unsqueeze(1);  // (batch, 1, N, L)
        var delta = matmul(dt, dtProj.weight!.t()).transpose(1, 2);                     // (batch, d_inner, L)
        var A = -aLog.@float().exp();

        var y = scan == ScanImplementation.Fused
            ? ops.selective_scan(xc, delta, A, B, C, d.@float(), z, dtProj.bias!.@float(), delta_softplus: true, reverse: reverse)
            : reference.selective_scan(xc, delta, A, B, C, d.@float(), z, dtProj.bias!.@float(), delta_softplus: true, reverse: reverse);
        return y.MoveToOuterDisposeScope();
    }
}
