using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Vision Mamba's bidirectional mixer, "bimamba v2" (hustvl/Vim mamba_simple.py): one in_proj and
/// out_proj, and two sets of direction-specific parameters — (A_log, conv1d, x_proj, dt_proj, D) scanning
/// forwards and (A_b_log, conv1d_b, x_proj_b, dt_proj_b, D_b) scanning backwards. The backward direction
/// runs on the original order with reverse: true (no flipped copies). The two outputs are summed and,
/// with if_divide_out, halved before out_proj. Input and output (batch, L, d_model).
/// </summary>
public sealed class BiMamba : nn.Module<Tensor, Tensor>
{
    private readonly Linear in_proj;
    private readonly Conv1d conv1d;
    private readonly Linear x_proj;
    private readonly Linear dt_proj;
    private readonly Parameter A_log;
    private readonly Parameter D;
    private readonly Conv1d conv1d_b;
    private readonly Linear x_proj_b;
    private readonly Linear dt_proj_b;
    private readonly Parameter A_b_log;
    private readonly Parameter D_b;
    private readonly Linear out_proj;

    private readonly long _dInner, _dtRank, _dState;
    private readonly bool _divideOut;
    private readonly ScanImplementation _scan;

    /// <summary>Builds the mixer for d_model channels; <paramref name="if_divide_out"/> halves the summed directions before out_proj (Vim's default).</summary>
    public BiMamba(long d_model, MambaConfig? config = null, bool if_divide_out = true) : base(nameof(BiMamba))
    {
        var c = config ?? new MambaConfig();
        _dInner = c.Expand * d_model;
        _dtRank = c.ResolvedDtRank(d_model);
        _dState = c.DState;
        _divideOut = if_divide_out;
        _scan = c.Scan;

        in_proj = nn.Linear(d_model, 2 * _dInner, hasBias: c.Bias);
        conv1d = nn.Conv1d(_dInner, _dInner, c.DConv, groups: _dInner, padding: c.DConv - 1, bias: c.ConvBias);
        x_proj = nn.Linear(_dInner, _dtRank + 2 * _dState, hasBias: false);
        dt_proj = nn.Linear(_dtRank, _dInner, hasBias: true);
        MambaInit.DtProjWeight(dt_proj.weight!, _dtRank, c.DtScale);
        MambaInit.DtProjBias(dt_proj.bias!, c.DtMin, c.DtMax, c.DtInitFloor);
        A_log = new Parameter(MambaInit.ALog(_dInner, _dState));
        D = new Parameter(ones(_dInner));

        conv1d_b = nn.Conv1d(_dInner, _dInner, c.DConv, groups: _dInner, padding: c.DConv - 1, bias: c.ConvBias);
        x_proj_b = nn.Linear(_dInner, _dtRank + 2 * _dState, hasBias: false);
        dt_proj_b = nn.Linear(_dtRank, _dInner, hasBias: true);
        MambaInit.DtProjWeight(dt_proj_b.weight!, _dtRank, c.DtScale);
        // Upstream Vim gives only the forward dt_proj.bias the log-uniform init; the model-wide init then
        // zeroes every other Linear bias, dt_proj_b.bias included, so the backward direction starts at
        // dt = softplus(0) = ln 2. Reproduced here so training from scratch matches upstream.
        using (no_grad()) dt_proj_b.bias!.zero_();
        A_b_log = new Parameter(MambaInit.ALog(_dInner, _dState));
        D_b = new Parameter(ones(_dInner));

        out_proj = nn.Linear(_dInner, d_model, hasBias: c.Bias);
        RegisterComponents();
    }

    /// <summary>hidden: (batch, L, d_model) -> (batch, L, d_model), both scan directions summed.</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var xz = in_proj.forward(hidden).transpose(1, 2);  // (batch, 2 d_inner, L)
        var x = xz.narrow(1, 0, _dInner);
        // Both directions read the same gate: made contiguous once here, not once per direction (each scan
        // would copy the strided view, and keep its own copy for the backward).
        var z = xz.narrow(1, _dInner, _dInner).contiguous();
        var forwards = MambaDirection.Forward(x, z, conv1d, x_proj, dt_proj, A_log, D, _dtRank, _dState, reverse: false, _scan);
        var backwards = MambaDirection.Forward(x, z, conv1d_b, x_proj_b, dt_proj_b, A_b_log, D_b, _dtRank, _dState, reverse: true, _scan);
        var y = forwards + backwards;
        if (_divideOut) y = y / 2;
        return out_proj.forward(y.transpose(1, 2)).MoveToOuterDisposeScope();
    }
}
