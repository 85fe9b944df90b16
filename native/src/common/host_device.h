// SSMB_HOST_DEVICE marks the functions of common/ that both the CPU kernels (any C++ compiler) and the
// CUDA kernels (nvcc) call: __host__ __device__ under nvcc, nothing elsewhere.
#pragma once

#ifndef SSMB_HOST_DEVICE
#ifdef __CUDACC__
#define SSMB_HOST_DEVICE __host__ __device__
#else
#define SSMB_HOST_DEVICE
#endif
#endif
