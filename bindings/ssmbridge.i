/*
 * SWIG interface for native/include/ssmbridge/ssmbridge.h -> C# (namespace SsmBridge.Interop).
 * Regenerate with `./build.sh bindings`; the output in bindings/generated/ is committed and CI fails
 * when it drifts from what this file produces.
 *
 * Conventions: every pointer is an IntPtr (the managed layer passes tensor data pointers); int64_t is
 * C# long (SWIGWORDSIZE64 must stay undefined); a status other than SSMB_OK becomes an exception
 * carrying ssmb_last_error(), so no call site can forget to check.
 */
%module Native

%{
#include "ssmbridge.h"
%}

%include <stdint.i>
%include <typemaps.i>

/* Pointers travel as IntPtr, never as SWIGTYPE_p_* wrappers. */
%apply void *VOID_INT_PTR { void *, const void * }
%apply long long *OUTPUT { int64_t *bytes }

/* ssmb_status: checked in C# after the call; the method itself returns nothing. */
%typemap(cstype) ssmb_status "void"
%typemap(csout, excode=SWIGEXCODE) ssmb_status {
    var status = (Status)$imcall;$excode
    NativeErrors.ThrowIfFailed(status);
  }

/* .NET names. */
%rename(Status) ssmb_status;
%rename(Ok) SSMB_OK;
%rename(InvalidArgument) SSMB_ERROR_INVALID_ARGUMENT;
%rename(Unsupported) SSMB_ERROR_UNSUPPORTED;
%rename(OutOfMemory) SSMB_ERROR_OUT_OF_MEMORY;
%rename(Internal) SSMB_ERROR_INTERNAL;
%rename(Dtype) ssmb_dtype;
%rename(Float32) SSMB_FLOAT32;
%rename(Float64) SSMB_FLOAT64;
%rename(Float16) SSMB_FLOAT16;
%rename(BFloat16) SSMB_BFLOAT16;

%rename(LastError) ssmb_last_error;
%rename(Version) ssmb_version;
%rename(HasCuda) ssmb_has_cuda;
%rename(CpuIsa) ssmb_cpu_isa;
%rename(CpuThreading) ssmb_cpu_threading;
%rename(SetNumThreads) ssmb_set_num_threads;
%rename(GetNumThreads) ssmb_get_num_threads;
%rename(SelectiveScanChunkSize) ssmb_selective_scan_chunk_size;
%rename(SelectiveScanForward) ssmb_selective_scan_fwd;
%rename(SelectiveScanBackwardWorkspaceSize) ssmb_selective_scan_bwd_workspace_size;
%rename(SelectiveScanBackward) ssmb_selective_scan_bwd;
%rename(CrossScan) ssmb_cross_scan;
%rename(CrossMerge) ssmb_cross_merge;
%rename(PatchMergeForward) ssmb_patch_merge_fwd;
%rename(PatchMergeBackward) ssmb_patch_merge_bwd;
/* S4D convolution kernel (issue 7) */
%rename(S4DKernelForward) ssmb_s4d_kernel_fwd;
%rename(S4DKernelBackward) ssmb_s4d_kernel_bwd;

/* CUDA entry points (issue 8) */
%apply int *OUTPUT { int32_t *count }
%rename(CudaDeviceCount) ssmb_cuda_device_count;
%rename(SelectiveScanForwardCuda) ssmb_selective_scan_fwd_cuda;
%rename(SelectiveScanBackwardWorkspaceSizeCuda) ssmb_selective_scan_bwd_workspace_size_cuda;
%rename(SelectiveScanBackwardCuda) ssmb_selective_scan_bwd_cuda;
%rename(CrossScanCuda) ssmb_cross_scan_cuda;
%rename(CrossMergeCuda) ssmb_cross_merge_cuda;
%rename(PatchMergeForwardCuda) ssmb_patch_merge_fwd_cuda;
%rename(PatchMergeBackwardCuda) ssmb_patch_merge_bwd_cuda;
%rename(S4DKernelForwardCuda) ssmb_s4d_kernel_fwd_cuda;
%rename(S4DKernelBackwardCuda) ssmb_s4d_kernel_bwd_cuda;
%rename(CrossSelectiveScanForwardCuda) ssmb_cross_selective_scan_fwd_cuda;
%rename(CrossSelectiveScanBackwardWorkspaceSizeCuda) ssmb_cross_selective_scan_bwd_workspace_size_cuda;
%rename(CrossSelectiveScanBackwardCuda) ssmb_cross_selective_scan_bwd_cuda;

/* fused cross selective scan (issue 4) */
%rename(CrossSelectiveScanForward) ssmb_cross_selective_scan_fwd;
%rename(CrossSelectiveScanBackwardWorkspaceSize) ssmb_cross_selective_scan_bwd_workspace_size;
%rename(CrossSelectiveScanBackward) ssmb_cross_selective_scan_bwd;

%ignore SSMB_STATUS_MAX_ENUM;
%ignore SSMB_DTYPE_MAX_ENUM;
%ignore SSMB_DTYPE_MIN_ENUM;

%include "ssmbridge.h"
