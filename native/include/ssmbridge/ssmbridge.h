/*
 * SsmBridge C ABI: the whole surface of libssmbridge.
 *
 * Rules every entry point follows:
 *  - Plain C, POD arguments only; sizes are int64_t; tensors are pointers plus a dtype.
 *  - Every tensor is contiguous row-major with the shape documented at its argument.
 *  - The library never allocates tensors: outputs and workspaces are allocated by the caller.
 *  - Every entry point validates its arguments and returns a status; on failure nothing was
 *    written and ssmb_last_error() (thread-local) names the argument and the problem.
 *  - Nothing is ever thrown across this boundary.
 *
 * This is the only header SWIG reads (bindings/ssmbridge.i).
 */
#ifndef SSMBRIDGE_H
#define SSMBRIDGE_H

#include <stdint.h>

#if defined(SWIG)
#  define SSMB_API
#elif defined(_WIN32)
#  if defined(SSMB_BUILDING_LIBRARY)
#    define SSMB_API __declspec(dllexport)
#  else
#    define SSMB_API __declspec(dllimport)
#  endif
#else
#  define SSMB_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ssmb_status {
    SSMB_OK = 0,
    SSMB_ERROR_INVALID_ARGUMENT = 1, /* a shape, size, pointer or flag is wrong */
    SSMB_ERROR_UNSUPPORTED = 2,      /* valid request this build cannot serve (dtype, device) */
    SSMB_ERROR_OUT_OF_MEMORY = 3,
    SSMB_ERROR_INTERNAL = 4,
    SSMB_STATUS_MAX_ENUM = 0x7fffffff /* makes every int32 a valid value: no UB on bad input */
} ssmb_status;

typedef enum ssmb_dtype {
    SSMB_FLOAT32 = 0,
    SSMB_FLOAT64 = 1,
    SSMB_FLOAT16 = 2,
    SSMB_BFLOAT16 = 3,
    /* Any int32 may arrive from a caller (api.cpp rejects unknown ones). These two bounds make every
     * int32, negative ones included, a value of the enum's range: a caller's -1 is no undefined
     * behaviour (found by native/fuzz; with only MAX_ENUM the range was 0..0x7fffffff). */
    SSMB_DTYPE_MIN_ENUM = -0x7fffffff - 1,
    SSMB_DTYPE_MAX_ENUM = 0x7fffffff
} ssmb_dtype;

/* ---- library ----------------------------------------------------------------------------- */

/* Message of the last failed call on this thread ("" when none). Valid until the next call. */
SSMB_API const char* ssmb_last_error(void);

/* Semantic version of the library, e.g. "0.1.0". */
SSMB_API const char* ssmb_version(void);

/* 1 when the library was built with CUDA kernels, else 0. */
SSMB_API int ssmb_has_cuda(void);

/* The CPU code path the kernels dispatch to: "avx512", "avx2", "neon" or "scalar" (the best one the
 * CPU supports; the environment variable SSMB_CPU_ISA, read at load, may force a lower one). */
SSMB_API const char* ssmb_cpu_isa(void);

/* Threads used by the CPU kernels (>= 1). The managed layer passes torch.get_num_threads(). */
SSMB_API ssmb_status ssmb_set_num_threads(int32_t num_threads);
SSMB_API int32_t ssmb_get_num_threads(void);

/* Which threads run the CPU kernels' parallel work, for the next call: "openmp <file>" when a GNU
 * OpenMP runtime is already loaded in the process (on Linux, e.g. libtorch's libgomp: the kernels then
 * run on libtorch's own OpenMP team, so the two never compete for cores), else "pool" (the library's
 * own threads). Either way at most ssmb_get_num_threads() threads; the environment variable
 * SSMB_CPU_THREADS=pool, read at first use, forces the pool. */
SSMB_API const char* ssmb_cpu_threading(void);

/* ---- selective scan (Mamba's selective_scan_fn, plus reverse) ----------------------------- */
/*
 * Recurrence, per batch b, channel d, state n, with g = d / (dim / groups) and
 * dt = delta + delta_bias, then softplus(dt) when delta_softplus:
 *
 *   h_t[n] = exp(dt_t * A[d,n]) * h_{t-1}[n] + dt_t * B_t[n] * u_t,   h_{-1} = 0
 *   y_t    = sum_n C_t[n] * h_t[n] + D[d] * u_t
 *   out_t  = z ? y_t * silu(z_t) : y_t
 *
 * t runs 0..L-1, or L-1..0 when reverse. B_t / C_t are B[d,n] when time-invariant and
 * B[b,g,n,t] when selective.
 *
 * dtype: dtype of u, delta, z, out and of selective B / C. CPU: SSMB_FLOAT32 or SSMB_FLOAT64 (CUDA:
 * see the CUDA section).
 * weight_dtype: dtype of A, D, delta_bias, time-invariant B / C, the states and every weight
 * gradient. CPU: equal to dtype.
 *
 *   u, delta          (batch, dim, L)               dtype
 *   A                 (dim, N)                      weight_dtype
 *   B, C              B_selective ? (batch, groups, N, L) dtype : (dim, N) weight_dtype
 *   D, delta_bias     (dim)                         weight_dtype, may be NULL
 *   z                 (batch, dim, L)               dtype, may be NULL
 *   out               (batch, dim, L)               dtype
 *   chunk_states      (batch, dim, n_chunks, N)     weight_dtype: h before the first step of
 *                     each chunk (in scan order), n_chunks = ceil(L / ssmb_selective_scan_chunk_size())
 *   last_state        (batch, dim, N)               weight_dtype: h after the last step; may be NULL
 */

/* Number of time steps per chunk; forward saves one state per chunk, backward recomputes inside. */
SSMB_API int64_t ssmb_selective_scan_chunk_size(void);

SSMB_API ssmb_status ssmb_selective_scan_fwd(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* z, const void* delta_bias,
    int32_t delta_softplus, int32_t reverse,
    void* out, void* chunk_states, void* last_state);

/* Bytes of scratch memory ssmb_selective_scan_bwd needs for these sizes (written to *bytes). */
SSMB_API ssmb_status ssmb_selective_scan_bwd_workspace_size(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective, int64_t* bytes);

/*
 * Gradients of the forward above given dout (batch, dim, L), dlast_state (batch, dim, N) weight_dtype
 * (the gradient flowing into last_state; NULL means zero) and the forward's chunk_states.
 * Every gradient has the shape and dtype of its input and is overwritten (not accumulated):
 * du, ddelta, dA, dB, dC always; dD, dz, ddelta_bias exactly when D, z, delta_bias are given.
 * workspace: at least ssmb_selective_scan_bwd_workspace_size() bytes, 64-byte aligned is best.
 * Results are bitwise reproducible for any thread count.
 */
SSMB_API ssmb_status ssmb_selective_scan_bwd(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* z, const void* delta_bias,
    int32_t delta_softplus, int32_t reverse,
    const void* chunk_states, const void* dout, const void* dlast_state,
    void* du, void* ddelta, void* dA, void* dB, void* dC,
    void* dD, void* dz, void* ddelta_bias,
    void* workspace, int64_t workspace_bytes);

/* ---- cross scan and patch merge (VMamba / Swin) -------------------------------------------- */
/*
 * An image (batch, channels, height, width) is stored channel-first, (batch, channels, height, width),
 * or channel-last, (batch, height, width, channels), as channel_first (0 or 1) says.
 *
 * Cross scan reads each channel of an H x W image as four sequences of L = H * W steps; scan
 * direction k puts pixel (h, w) at position
 *   k = 0  row-major       h * W + w
 *   k = 1  column-major    w * H + h
 *   k = 2  k = 0 reversed  L - 1 - (h * W + w)
 *   k = 3  k = 1 reversed  L - 1 - (w * H + h)
 *
 *   x      image, channel_first ? (batch, channels, H, W) : (batch, H, W, channels)     dtype
 *   ys     (batch, 4, channels, L): the four sequences, as the selective scan reads them  dtype
 *   y      channel_first ? (batch, channels, L) : (batch, L, channels), L row-major     dtype
 *
 * ssmb_cross_scan:   ys[b, k, c, pos_k(h, w)] = x[b, c, h, w]
 * ssmb_cross_merge:  y[b, c, h * W + w] = (ys[b, 0, c, pos_0] + ys[b, 2, c, pos_2])
 *                                       + (ys[b, 1, c, pos_1] + ys[b, 3, c, pos_3])
 * (summed in exactly this order: VMamba's CrossMerge order, so results are reproducible). Each is the
 * other's adjoint, hence the other's backward. CPU: SSMB_FLOAT32 or SSMB_FLOAT64.
 */
SSMB_API ssmb_status ssmb_cross_scan(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* x, void* ys);

SSMB_API ssmb_status ssmb_cross_merge(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* ys, void* y);

/*
 * Swin's 2x2 patch merging with Ho = ceil(height / 2), Wo = ceil(width / 2):
 *
 *   x      channel_first ? (batch, channels, height, width) : (batch, height, width, channels)
 *   out    channel_first ? (batch, 4 * channels, Ho, Wo) : (batch, Ho, Wo, 4 * channels)
 *
 * Channel group q (channels q * channels .. (q + 1) * channels - 1) of output pixel (i, j) holds
 * x[2i + (q & 1), 2j + (q >> 1)]: the order [x(0::2, 0::2), x(1::2, 0::2), x(0::2, 1::2),
 * x(1::2, 1::2)]; pixels past an odd height or width read as zero. The backward gathers
 * dx[h, w] = dout[h / 2, w / 2, group of (h, w)] (the padding's gradients are dropped).
 * dout has the shape of out and dx the shape of x. CPU: SSMB_FLOAT32 or SSMB_FLOAT64.
 */
SSMB_API ssmb_status ssmb_patch_merge_fwd(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* x, void* out);

SSMB_API ssmb_status ssmb_patch_merge_bwd(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* dout, void* dx);

/* ---- S4D convolution kernel (S4D / S4ND, issue 7) ----------------------------------------- */
/*
 * The zero-order-hold kernel of H diagonal state space models with N complex modes each (S4D; B is
 * folded into C, the conjugate modes are implied by taking twice the real part):
 *
 *   dt = exp(log_dt[h]),  A = A_real[h,n] + i A_imag[h,n],  C = C_real[h,n] + i C_imag[h,n]
 *   K[h,l] = 2 Re sum_n C (exp(dt A) - 1) / A * exp(dt A l),    l = 0..L-1
 *
 * evaluated as C dt phi1(dt A) exp(dt A l) with phi1(x) = (exp(x) - 1) / x (so A = 0 is no special
 * case and tiny dt A loses nothing to cancellation) and exp(dt A l) taken directly every few steps (no
 * drift for long L). Work O(H N L); nothing of size H N L is stored. A_real <= 0 is the stable case;
 * a positive A_real gives a kernel that grows with l (and may overflow, as the math does).
 *
 *   log_dt                             (H)       dtype
 *   A_real, A_imag, C_real, C_imag     (H, N)    dtype
 *   K, dK                              (H, L)    dtype
 *
 * The backward overwrites dlog_dt (H) and dA_real, dA_imag, dC_real, dC_imag (H, N) with the
 * gradients of sum(dK * K). CPU: SSMB_FLOAT32 or SSMB_FLOAT64 (internally double where it matters).
 */
SSMB_API ssmb_status ssmb_s4d_kernel_fwd(
    ssmb_dtype dtype, int64_t H, int64_t N, int64_t L,
    const void* log_dt, const void* A_real, const void* A_imag, const void* C_real, const void* C_imag,
    void* K);

SSMB_API ssmb_status ssmb_s4d_kernel_bwd(
    ssmb_dtype dtype, int64_t H, int64_t N, int64_t L,
    const void* log_dt, const void* A_real, const void* A_imag, const void* C_real, const void* C_imag,
    const void* dK, void* dlog_dt, void* dA_real, void* dA_imag, void* dC_real, void* dC_imag);

/* ---- fused cross selective scan (VMamba SS2D; issue 4) ------------------------------------ */
/*
 * cross_merge(selective_scan(cross_scan(u))) in one call: the four scan directions k of the cross
 * scan above (k = 0 row-major, 1 column-major, 2 and 3 their reverses), each a selective scan over
 * the L = H * W pixels of every channel of u with its own delta, B, C, A, D and delta_bias, merged
 * back into pixel order as (y_0 + y_2) + (y_1 + y_3) (cross_merge's order). Everything is read and
 * written in pixel order (row-major h * W + w): the per-pixel projections that make delta, B and C
 * commute with the scan order, so SS2D computes them once from u, without cross-scanned copies. The
 * result equals ssmb_cross_scan + ssmb_selective_scan_fwd (dim' = 4 * dim, groups = 4, B and C
 * selective, no z) + ssmb_cross_merge on the scan-ordered copies. Channel c of direction k is row
 * k * dim + c of A, D, delta_bias and chunk_states, as in that composition.
 *
 * dtype: of u, delta, B, C, out and their gradients; weight_dtype: of A, D, delta_bias, chunk_states
 * and their gradients. CPU: SSMB_FLOAT32 or SSMB_FLOAT64, weight_dtype equal to dtype.
 *
 *   u              (batch, dim, H, W)               dtype: the image, channel-first
 *   delta          (batch, 4, dim, H, W)            dtype: direction k's delta of pixel (h, w)
 *   A              (4 * dim, N)                     weight_dtype
 *   B, C           (batch, 4, N, H, W)              dtype: direction k's B_t / C_t at pixel (h, w)
 *   D, delta_bias  (4 * dim)                        weight_dtype, may be NULL
 *   out            (batch, dim, H, W)               dtype: the merged output
 *   chunk_states   (batch, 4 * dim, n_chunks, N)    weight_dtype, n_chunks = ceil(H * W /
 *                  ssmb_selective_scan_chunk_size()): each direction's state before each chunk of
 *                  its scan order (for the backward)
 *
 * The backward takes the forward's inputs, chunk_states and dout (batch, dim, H, W) and overwrites
 * du, ddelta, dA, dB, dC (always) and dD, ddelta_bias (exactly when D, delta_bias are given), each
 * with its input's shape. workspace: at least ssmb_cross_selective_scan_bwd_workspace_size() bytes.
 * Results are bitwise reproducible for any thread count.
 */
SSMB_API ssmb_status ssmb_cross_selective_scan_fwd(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* delta_bias, int32_t delta_softplus,
    void* out, void* chunk_states);

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_workspace_size(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N, int64_t* bytes);

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* delta_bias, int32_t delta_softplus,
    const void* chunk_states, const void* dout,
    void* du, void* ddelta, void* dA, void* dB, void* dC, void* dD, void* ddelta_bias,
    void* workspace, int64_t workspace_bytes);

/* ---- end of the fused cross selective scan ------------------------------------------------- */

/* ---- CUDA (issue 8) ----------------------------------------------------------------------- */
/*
 * The CUDA kernels have entry points of their own, named like their CPU twins plus "_cuda", rather
 * than a device argument on the CPU ones: a call says by its name where it runs, the CPU functions
 * keep their signatures, and each side validates the dtypes it supports. They take the same
 * arguments with the same meaning and layouts, plus:
 *
 *   - every tensor pointer is CUDA device memory (cudaMalloc'd or managed), all on one device; the
 *     call runs on that device and restores the caller's current device before it returns;
 *   - stream is a cudaStream_t of that device; NULL means the legacy default stream. Work is only
 *     queued: the call returns before the kernels finish, and outputs are ready in stream order.
 *     Arguments are checked before anything is queued; a failed launch is SSMB_ERROR_INTERNAL with
 *     the CUDA error text in ssmb_last_error();
 *   - dtype is SSMB_FLOAT32, SSMB_FLOAT16 or SSMB_BFLOAT16 and weight_dtype SSMB_FLOAT32: the
 *     kernels compute and accumulate in float32;
 *   - results do not depend on timing: reductions run in a fixed order, with no atomics.
 *
 * A library built without CUDA (ssmb_has_cuda() == 0) answers each "_cuda" entry point with
 * SSMB_ERROR_UNSUPPORTED and a message saying so; ssmb_cuda_device_count still succeeds with 0.
 */

/* Number of CUDA devices usable now (written to *count). 0, with SSMB_OK, when the library was built
 * without CUDA or when no driver or no device is present; never fails for their absence. */
SSMB_API ssmb_status ssmb_cuda_device_count(int32_t* count);

/* Selective scan (see above for the math). chunk_states has the same layout and chunk size as on the
 * CPU, (batch, dim, ceil(L / ssmb_selective_scan_chunk_size()), N) float32, so either device's
 * forward feeds either device's backward. N at most 256. */
SSMB_API ssmb_status ssmb_selective_scan_fwd_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* z, const void* delta_bias,
    int32_t delta_softplus, int32_t reverse,
    void* out, void* chunk_states, void* last_state, void* stream);

/* Bytes of device workspace ssmb_selective_scan_bwd_cuda needs (partial sums, float32). */
SSMB_API ssmb_status ssmb_selective_scan_bwd_workspace_size_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective, int64_t* bytes);

SSMB_API ssmb_status ssmb_selective_scan_bwd_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
    int32_t B_selective, int32_t C_selective,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* z, const void* delta_bias,
    int32_t delta_softplus, int32_t reverse,
    const void* chunk_states, const void* dout, const void* dlast_state,
    void* du, void* ddelta, void* dA, void* dB, void* dC,
    void* dD, void* dz, void* ddelta_bias,
    void* workspace, int64_t workspace_bytes, void* stream);

/* Cross scan / cross merge and patch merge on the GPU: the CPU functions' semantics; dtype float32,
 * float16 or bfloat16 (cross merge sums in float32). */
SSMB_API ssmb_status ssmb_cross_scan_cuda(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* x, void* ys, void* stream);

SSMB_API ssmb_status ssmb_cross_merge_cuda(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* ys, void* y, void* stream);

SSMB_API ssmb_status ssmb_patch_merge_fwd_cuda(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* x, void* out, void* stream);

SSMB_API ssmb_status ssmb_patch_merge_bwd_cuda(
    ssmb_dtype dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int32_t channel_first,
    const void* dout, void* dx, void* stream);

/* S4D convolution kernel on the GPU (see the S4D section for the math and layouts): the same
 * arguments plus stream; dtype SSMB_FLOAT32 or SSMB_FLOAT64 (computed in double where it matters, as
 * on the CPU). The backward's sums over L run in a fixed order (no atomics, no workspace). */
SSMB_API ssmb_status ssmb_s4d_kernel_fwd_cuda(
    ssmb_dtype dtype, int64_t H, int64_t N, int64_t L,
    const void* log_dt, const void* A_real, const void* A_imag, const void* C_real, const void* C_imag,
    void* K, void* stream);

SSMB_API ssmb_status ssmb_s4d_kernel_bwd_cuda(
    ssmb_dtype dtype, int64_t H, int64_t N, int64_t L,
    const void* log_dt, const void* A_real, const void* A_imag, const void* C_real, const void* C_imag,
    const void* dK, void* dlog_dt, void* dA_real, void* dA_imag, void* dC_real, void* dC_imag, void* stream);

/* Fused cross selective scan on the GPU (see its section for the math and layouts): the same
 * arguments plus stream; dtype and weight_dtype SSMB_FLOAT32; N at most 256. chunk_states has the
 * CPU's layout, so either device's forward feeds either device's backward. The forward adds the
 * directions' outputs as ((y0 + y2) + y1) + y3 (the CPU: (y0 + y2) + (y1 + y3)), so the two agree to
 * rounding, not bitwise; each is deterministic. workspace: at least
 * ssmb_cross_selective_scan_bwd_workspace_size_cuda() bytes of device memory (float32 partial sums). */
SSMB_API ssmb_status ssmb_cross_selective_scan_fwd_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* delta_bias, int32_t delta_softplus,
    void* out, void* chunk_states, void* stream);

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_workspace_size_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N, int64_t* bytes);

SSMB_API ssmb_status ssmb_cross_selective_scan_bwd_cuda(
    ssmb_dtype dtype, ssmb_dtype weight_dtype,
    int64_t batch, int64_t dim, int64_t height, int64_t width, int64_t N,
    const void* u, const void* delta, const void* A, const void* B, const void* C,
    const void* D, const void* delta_bias, int32_t delta_softplus,
    const void* chunk_states, const void* dout,
    void* du, void* ddelta, void* dA, void* dB, void* dC, void* dD, void* ddelta_bias,
    void* workspace, int64_t workspace_bytes, void* stream);

/* ---- end of CUDA --------------------------------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* SSMBRIDGE_H */
