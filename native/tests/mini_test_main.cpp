// main() of the GoogleTest-free build of the CUDA tests (mini_test.h): runs every test (or, given an
// argument "A:B:...", those whose name contains A or B or ...), prints one line each and a summary,
// and exits non-zero when any failed.
#include <cstdio>
#include <string>
#include <vector>

#include "mini_test.h"

namespace {

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1)
        parts.push_back(text.substr(start, colon - start));
    parts.push_back(text.substr(start));
    return parts;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> filters = argc > 1 ? split(argv[1]) : std::vector<std::string>{""};
    int passed = 0, failed = 0, skipped = 0;
    for (const mini::TestCase& test : mini::registry()) {
        bool selected = false;
        for (const std::string& f : filters) selected = selected || test.name.find(f) != std::string::npos;
        if (!selected) continue;
        mini::state() = {};
        std::printf("[ RUN      ] %s\n", test.name.c_str());
        std::fflush(stdout);
        test.body();
        const mini::State s = mini::state();
        const char* verdict = s.failed ? "[  FAILED  ]" : s.skipped ? "[  SKIPPED ]" : "[       OK ]";
        std::printf("%s %s\n", verdict, test.name.c_str());
        (s.failed ? failed : s.skipped ? skipped : passed) += 1;
    }
    std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed == 0 ? 0 : 1;
}
