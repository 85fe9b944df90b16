// Fuzzes the library-wide entry points (thread count, version and build facts, ssmb_last_error) and
// every "_cuda" entry point of this CPU-only build, which must answer SSMB_ERROR_UNSUPPORTED with a
// message for any arguments without touching them (the pointers passed are not valid memory).
#include <cstring>
#include <string>

#include "fuzz_support.h"

using namespace fuzz;

namespace {

void fuzz_threads(FuzzInput& in) {
    const int32_t before = ssmb_get_num_threads();
    int32_t n;
    const uint8_t b = in.byte();
    if (b < 128)
        n = b % 8;
    else {
        const int64_t raw = in.raw_int64();
        std::memcpy(&n, &raw, sizeof n);
    }
    const ssmb_status status = ssmb_set_num_threads(n);
    const bool valid = n >= 1 && n <= 4096;
    if (valid) {
        FUZZ_REQUIRE(status == SSMB_OK && ssmb_get_num_threads() == n, "a valid thread count was not taken");
        FUZZ_REQUIRE(ssmb_last_error()[0] == '\0', "an accepted call left an error message");
        FUZZ_REQUIRE(ssmb_set_num_threads(before) == SSMB_OK, "restoring the thread count failed");
    } else {
        Call::check_rejected(status);
        FUZZ_REQUIRE(std::strstr(ssmb_last_error(), "num_threads") != nullptr, "the message does not name num_threads");
        FUZZ_REQUIRE(ssmb_get_num_threads() == before, "a rejected thread count changed the count");
    }
}

void check_facts() {
    FUZZ_REQUIRE(ssmb_version() != nullptr && ssmb_version()[0] != '\0', "empty version");
    const std::string isa = ssmb_cpu_isa();
    FUZZ_REQUIRE(isa == "avx512" || isa == "avx2" || isa == "neon" || isa == "scalar", "unknown ISA name");
    FUZZ_REQUIRE(ssmb_selective_scan_chunk_size() >= 1, "chunk size below 1");
    FUZZ_REQUIRE(ssmb_has_cuda() == 0, "fuzz builds are CPU-only");
    int32_t count = -1;
    FUZZ_REQUIRE(ssmb_cuda_device_count(&count) == SSMB_OK && count == 0, "a CPU-only build reports CUDA devices");
    Call::check_rejected(ssmb_cuda_device_count(nullptr));
}

void expect_no_cuda(ssmb_status status) {
    FUZZ_REQUIRE(status == SSMB_ERROR_UNSUPPORTED, "a CUDA entry point of a CPU-only build did not say UNSUPPORTED");
    FUZZ_REQUIRE(std::strstr(ssmb_last_error(), "without CUDA") != nullptr, "the message does not say why");
}

void fuzz_cuda_stubs(FuzzInput& in) {
    const ssmb_dtype dt = in.dtype(), wt = in.dtype();
    const int64_t s0 = in.size(), s1 = in.size(), s2 = in.size(), s3 = in.size(), s4 = in.size();
    const int32_t f0 = in.flag(), f1 = in.flag();
    // Arbitrary addresses: the stubs must not read them.
    void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(in.raw_int64()) | 1);
    int64_t bytes = 0;
    switch (in.byte() % 14) {
        case 0: expect_no_cuda(ssmb_selective_scan_fwd_cuda(dt, wt, s0, s1, s2, s3, s4, f0, f1, p, p, p, p, p, p, p, p, f0, f1, p, p, p, p)); break;
        case 1: expect_no_cuda(ssmb_selective_scan_bwd_workspace_size_cuda(dt, wt, s0, s1, s2, s3, s4, f0, f1, &bytes)); break;
        case 2: expect_no_cuda(ssmb_selective_scan_bwd_cuda(dt, wt, s0, s1, s2, s3, s4, f0, f1, p, p, p, p, p, p, p, p, f0, f1, p, p, p, p, p, p, p, p, p, p, p, p, s0, p)); break;
        case 3: expect_no_cuda(ssmb_cross_scan_cuda(dt, s0, s1, s2, s3, f0, p, p, p)); break;
        case 4: expect_no_cuda(ssmb_cross_merge_cuda(dt, s0, s1, s2, s3, f0, p, p, p)); break;
        case 5: expect_no_cuda(ssmb_patch_merge_fwd_cuda(dt, s0, s1, s2, s3, f0, p, p, p)); break;
        case 6: expect_no_cuda(ssmb_patch_merge_bwd_cuda(dt, s0, s1, s2, s3, f0, p, p, p)); break;
        case 7: expect_no_cuda(ssmb_s4d_kernel_fwd_cuda(dt, s0, s1, s2, p, p, p, p, p, p, p)); break;
        case 8: expect_no_cuda(ssmb_s4d_kernel_bwd_cuda(dt, s0, s1, s2, p, p, p, p, p, p, p, p, p, p, p, p)); break;
        case 9: expect_no_cuda(ssmb_cross_selective_scan_fwd_cuda(dt, wt, s0, s1, s2, s3, s4, p, p, p, p, p, p, p, f0, p, p, p)); break;
        case 10: expect_no_cuda(ssmb_cross_selective_scan_bwd_workspace_size_cuda(dt, wt, s0, s1, s2, s3, s4, &bytes)); break;
        case 11: expect_no_cuda(ssmb_cross_selective_scan_bwd_cuda(dt, wt, s0, s1, s2, s3, s4, p, p, p, p, p, p, p, f0, p, p, p, p, p, p, p, p, p, p, s0, p)); break;
        default: check_facts(); break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzInput in(data, size);
    if (in.byte() & 1)
        fuzz_threads(in);
    else
        fuzz_cuda_stubs(in);
    // ssmb_last_error always returns a valid string.
    FUZZ_REQUIRE(ssmb_last_error() != nullptr, "null error message");
    return 0;
}
