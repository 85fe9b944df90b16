// Argument checks of the selective scan shared by its CPU entry points (api.cpp) and CUDA entry
// points (api_cuda.cpp): sizes and flags, and the buffers of a forward or backward call with their
// byte sizes, null checks and pairing of optional gradients. Device-specific dtype rules and
// pointer checks stay with each entry point.
#pragma once

#include <cstdint>
#include <vector>

#include "selective_scan.h"
#include "validate.h"

namespace ssmb {

// Sizes and flags shared by forward, backward and the workspace queries.
SelectiveScanParams scan_shape(int64_t batch, int64_t dim, int64_t L, int64_t N, int64_t groups,
                               int32_t B_selective, int32_t C_selective);

// The byte counts of every array of a call with these sizes and element sizes, overflow-checked (the
// workspace queries run the calls' checks too, so a shape a call rejects never gets a workspace size).
void require_scan_byte_counts(const SelectiveScanParams& p, int64_t elem, int64_t weight_elem);

// Every buffer of one call: what it reads and what it writes (for null, overlap and device checks).
struct ScanCallBuffers {
    std::vector<Buffer> inputs, outputs;
};

// Byte sizes: elem for u, delta, z, out and selective B / C; weight_elem for A, D, delta_bias,
// time-invariant B / C and the states. Fills p's forward pointers and flags after checking them.
ScanCallBuffers forward_buffers(SelectiveScanParams& p, int64_t elem, int64_t weight_elem, const void* u,
                                const void* delta, const void* A, const void* B, const void* C, const void* D,
                                const void* z, const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                void* out, void* chunk_states, void* last_state);

// As forward_buffers for the backward; workspace_needed is what workspace_query (named in the
// message) reports.
ScanCallBuffers backward_buffers(SelectiveScanParams& p, int64_t elem, int64_t weight_elem, const void* u,
                                 const void* delta, const void* A, const void* B, const void* C, const void* D,
                                 const void* z, const void* delta_bias, int32_t delta_softplus, int32_t reverse,
                                 const void* chunk_states, const void* dout, const void* dlast_state, void* du,
                                 void* ddelta, void* dA, void* dB, void* dC, void* dD, void* dz, void* ddelta_bias,
                                 void* workspace, int64_t workspace_bytes, int64_t workspace_needed,
                                 const char* workspace_query);

}  // namespace ssmb
