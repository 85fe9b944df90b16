// SSMB_TARGET_BEGIN("avx2,fma") ... SSMB_TARGET_END compiles the functions defined between them
// for that instruction set, inside a translation unit built for the baseline ISA. Only code
// defined inside the region (the kernels, templated on their ISA's vector type) can use the wider
// instructions; everything included before it (the standard library, shared headers) stays
// baseline, so no inline function shared between translation units can carry AVX instructions
// into code that runs on a CPU without them. Include every other header before the region.
#pragma once

#define SSMB_STRINGIFY(x) #x

// Inlines a small kernel helper even where the compiler's size heuristics would not: Pack<V, K>'s
// operations (vec_pack.h) and the one-state kernels' prefix scan. A variant of the N = 1 forward in
// which GCC left the prefix scan (and softplus) out of line ran at 0.50 instead of 0.74 G elem/s: the
// four vectors of each Pack went through memory at every call.
#if defined(__GNUC__) || defined(__clang__)
#define SSMB_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SSMB_ALWAYS_INLINE __forceinline
#else
#define SSMB_ALWAYS_INLINE inline
#endif

#if defined(__clang__)
#define SSMB_TARGET_BEGIN(features) \
    _Pragma(SSMB_STRINGIFY(clang attribute push(__attribute__((target(features))), apply_to = function)))
#define SSMB_TARGET_END _Pragma("clang attribute pop")
#elif defined(__GNUC__)
#define SSMB_TARGET_BEGIN(features) _Pragma("GCC push_options") _Pragma(SSMB_STRINGIFY(GCC target(features)))
#define SSMB_TARGET_END _Pragma("GCC pop_options")
#else
// MSVC compiles any intrinsic without flags.
#define SSMB_TARGET_BEGIN(features)
#define SSMB_TARGET_END
#endif
