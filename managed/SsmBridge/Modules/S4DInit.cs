using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Modules;

/// <summary>
/// Initial diagonal state matrices A and input vectors B of S4D, as state-spaces/s4 builds them
/// (<c>kernels/dplr.py</c>, <c>hippo/hippo.py</c>) for a state of size N, keeping one of each conjugate
/// pair (N / 2 modes, Im A &lt;= 0):
/// <list type="bullet">
/// <item><c>diag-lin</c> (S4D-Lin): A = -1/2 - i pi n, B = 1.</item>
/// <item><c>diag-inv</c> (S4D-Inv): A = -1/2 - i (N / pi) (N / (2n + 1) - 1), B = 1.</item>
/// <item><c>diag-legs</c>: A = -1/2 + the imaginary parts of <c>legs</c>, B = 1.</item>
/// <item><c>legs</c>: the eigenvalues of the normal part of HiPPO-LegS (-1/2 I + a skew-symmetric matrix)
/// with B = V* B_legs, V the unit eigenvectors (an eigenvector's phase is arbitrary, as upstream's eig).</item>
/// <item><c>fourier</c>: HiPPO-FouT's normal part, whose eigenvalues are -i 2 pi k (real part 0), with
/// B = 1 / sqrt(2) for k &gt;= 1 and 1 for k = 0 (closed form of V* B).</item>
/// <item>Combinations: <c>diag</c> = diag-inv + diag-lin, <c>hippo</c> = legs + fourier, split over the n_ssm copies.</item>
/// </list>
/// </summary>
public static class S4DInit
{
    /// <summary>The init names this class knows.</summary>
    public static readonly string[] Names = { "diag-lin", "diag-inv", "diag-legs", "legs", "fourier", "diag", "hippo" };

    /// <summary>
    /// A and B for <paramref name="copies"/> independent SSMs, as float64 (copies, N / 2) real/imag pairs.
    /// </summary>
    public static (Tensor A_real, Tensor A_imag, Tensor B_real, Tensor B_imag) Create(string init, long N, long copies)
    {
        if (N < 2 || N % 2 != 0) throw new ArgumentException($"d_state: expected an even size >= 2, got {N}", "d_state");
        var parts = init switch {
            "diag" => new[] { "diag-inv", "diag-lin" },
            "hippo" => new[] { "legs", "fourier" },
            _ => new[] { init },
        };
        if (copies % parts.Length != 0)
            throw new ArgumentException($"n_ssm: expected a multiple of {parts.Length} for init '{init}', got {copies}", "n_ssm");
        using var scope = NewDisposeScope();
        var pieces = parts.Select(p => One(p, N)).ToArray();
        long each = copies / parts.Length;
        Tensor Stack(Func<(Tensor, Tensor, Tensor, Tensor), Tensor> pick) =>
            cat(pieces.Select(p => pick(p).unsqueeze(0).expand(each, -1)).ToArray(), 0).contiguous();
        return (Stack(p => p.Item1).MoveToOuterDisposeScope(), Stack(p => p.Item2).MoveToOuterDisposeScope(),
                Stack(p => p.Item3).MoveToOuterDisposeScope(), Stack(p => p.Item4).MoveToOuterDisposeScope());
    }

    private static (Tensor, Tensor, Tensor, Tensor) One(string init, long N)
    {
        long half = N / 2;
        var n = arange(half, ScalarType.Float64);
        var ones_ = ones(half, ScalarType.Float64);
        var zeros_ = zeros(half, ScalarType.Float64);
        var minusHalf = full(half, -0.5, ScalarType.Float64);
        switch (init) {
            case "diag-lin":
                return (minusHalf, -Math.PI * n, ones_, zeros_);
            case "diag-inv":
                return (minusHalf, -(N / Math.PI) * (N / (2 * n + 1) - 1), ones_, zeros_);
            case "diag-legs": {
                var (_, imag, _, _) = Legs(N);
                return (minusHalf, imag, ones_, zeros_);
            }
            case "legs":
                return Legs(N);
            case "fourier": {
                var bReal = full(half, 1 / Math.Sqrt(2), ScalarType.Float64);
                bReal[0] = 1.0;
                return (zeros_, -2 * Math.PI * n, bReal, zeros_);
            }
            default:
                throw new ArgumentException($"init: expected one of {string.Join(", ", Names)}, got '{init}'", nameof(init));
        }
    }

    // HiPPO-LegS plus its rank-1 correction P P^T is -1/2 I + S with S[n, k] = -sign(n - k) sqrt((2n+1)(2k+1)) / 2.
    // Its eigenpairs come in conjugates; the N/2 with Im < 0 are kept (largest |Im| first), B = V* B_legs.
    private static (Tensor, Tensor, Tensor, Tensor) Legs(long N)
    {
        var q = arange(N, ScalarType.Float64);
        var r = (2 * q + 1).sqrt();
        var sign = (q.unsqueeze(1) - q.unsqueeze(0)).sign();
        var normal = -0.5 * sign * r.unsqueeze(1) * r.unsqueeze(0) - 0.5 * eye(N, dtype: ScalarType.Float64);
        var (w, V) = linalg.eig(normal);
        var order = w.imag.argsort();
        var keep = order.slice(0, 0, N / 2, 1);
        var wk = w.index_select(0, keep);
        var Vk = V.index_select(1, keep);
        // B_legs = sqrt(2n + 1); V* B = conj(V)^T B.
        var Bc = matmul(Vk.conj().transpose(0, 1), r.to_type(ScalarType.ComplexFloat64).unsqueeze(1)).squeeze(1);
        return (wk.real.contiguous(), wk.imag.contiguous(), Bc.real.contiguous(), Bc.imag.contiguous());
    }
}
