using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// The Mamba-1 mixer (Gu and Dao, mamba_simple.py): in_proj to (x, z), depthwise causal conv + SiLU,
/// x_proj to (dt, B, C), dt_proj, the fused selective scan with softplus, D and the z gate, out_proj.
/// Input and output (batch, L, d_model). Parameter names follow the official checkpoints.
/// </summary>
public sealed class Mamba : nn.Module<Tensor, Tensor>
{
    private readonly Linear in_proj;
    private readonly Conv1d conv1d;
    private readonly Linear x_proj;
    private readonly Linear dt_proj;
    private readonly Parameter A_log;
    private readonly Parameter D;
    private readonly Linear out_proj;

    private readonly long _dInner, _dtRank, _dState;
    private readonly ScanImplementation _scan;

    /// <summary>A mixer for d_model channels; the config's defaults are Mamba-1's.</summary>
    public Mamba(long d_model, MambaConfig? config = null) : base(nameof(Mamba))
    {
        var c = config ?? new MambaConfig();
        _dInner = c.Expand * d_model;
        _dtRank = c.ResolvedDtRank(d_model);
        _dState = c.DState;
        _scan = c.Scan;

        in_proj = nn.Linear(d_model, 2 * _dInner, hasBias: c.Bias);
        conv1d = nn.Conv1d(_dInner, _dInner, c.DConv, groups: _dInner, padding: c.DConv - 1, bias: c.ConvBias);
        x_proj = nn.Linear(_dInner, _dtRank + 2 * _dState, hasBias: false);
        dt_proj = nn.Linear(_dtRank, _dInner, hasBias: true);
        MambaInit.DtProjWeight(dt_proj.weight!, _dtRank, c.DtScale);
        MambaInit.DtProjBias(dt_proj.bias!, c.DtMin, c.DtMax, c.DtInitFloor);
        A_log = new Parameter(MambaInit.ALog(_dInner, _dState));
        D = new Parameter(ones(_dInner));
        out_proj = nn.Linear(_dInner, d_model, hasBias: c.Bias);
        RegisterComponents();
    }

    /// <summary>hidden: (batch, L, d_model) -> (batch, L, d_model).</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var xz = in_proj.forward(hidden).transpose(1, 2);  // (batch, 2 d_inner, L)
        var x = xz.narrow(1, 0, _dInner);
        var z = xz.narrow(1, _dInner, _dInner);
        var y = MambaDirection.Forward(x, z, conv1d, x_proj, dt_proj, A_log, D, _dtRank, _dState, reverse: false, _scan);
        return out_proj.forward(y.transpose(1, 2)).MoveToOuterDisposeScope();
    }
}
