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
    SSMB_DTYPE_MAX_ENUM = 0x7fffffff /* any int32 may arrive from a caller; api.cpp rejects unknown ones */
} ssmb_dtype;

/* ---- library ----------------------------------------------------------------------------- */

/* Message of the last failed call on this thread ("" when none). Valid until the next call. */
SSMB_API const char* ssmb_last_error(void);

/* Semantic version of the library, e.g. "0.1.0". */
SSMB_API const char* ssmb_version(void);

/* 1 when the library was built with CUDA kernels, else 0. */
SSMB_API int ssmb_has_cuda(void);

/* Name of the CPU code path in use (e.g. "scalar"). */
SSMB_API const char* ssmb_cpu_isa(void);

/* Threads used by the CPU kernels (>= 1). The managed layer passes torch.get_num_threads(). */
SSMB_API ssmb_status ssmb_set_num_threads(int32_t num_threads);
SSMB_API int32_t ssmb_get_num_threads(void);

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
 * dtype: dtype of u, delta, z, out and of selective B / C. CPU: SSMB_FLOAT32 or SSMB_FLOAT64.
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

#ifdef __cplusplus
}
#endif

#endif /* SSMBRIDGE_H */
