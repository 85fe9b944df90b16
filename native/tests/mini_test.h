// A tiny stand-in for the part of GoogleTest the CUDA tests use (TEST, EXPECT_* / ASSERT_* with
// streamed messages, GTEST_SKIP), so that scripts/gpu_check.sh can build and run them on a machine
// without GoogleTest. Compiled with -DSSMB_MINI_TEST plus mini_test_main.cpp; the CMake build uses
// the real GoogleTest.
#pragma once

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace mini {

struct TestCase {
    std::string name;
    std::function<void()> body;
};

inline std::vector<TestCase>& registry() {
    static std::vector<TestCase> tests;
    return tests;
}

struct State {
    bool failed = false, skipped = false;
};

inline State& state() {
    static State s;
    return s;
}

struct Registrar {
    Registrar(const char* name, void (*body)()) { registry().push_back({name, body}); }
};

struct Message {
    std::ostringstream text;
    template <class T>
    Message& operator<<(const T& value) {
        text << value;
        return *this;
    }
};

struct Failure {
    const char* file;
    int line;
    const char* what;
    void operator=(const Message& m) const {
        state().failed = true;
        std::printf("%s:%d: Failure: %s\n  %s\n", file, line, what, m.text.str().c_str());
    }
};

struct Skip {
    void operator=(const Message& m) const {
        state().skipped = true;
        std::printf("  skipped: %s\n", m.text.str().c_str());
    }
};

}  // namespace mini

#define TEST(suite, name)                                                              \
    static void mini_test_##suite##_##name();                                          \
    static const ::mini::Registrar mini_registrar_##suite##_##name(#suite "." #name, \
                                                                   mini_test_##suite##_##name); \
    static void mini_test_##suite##_##name()

#define MINI_FAILURE(what) ::mini::Failure{__FILE__, __LINE__, what} = ::mini::Message()
#define EXPECT_TRUE(c) \
    if (c) {           \
    } else             \
        MINI_FAILURE("expected " #c)
#define ASSERT_TRUE(c) \
    if (c) {           \
    } else             \
        return MINI_FAILURE("expected " #c)
#define EXPECT_FALSE(c) EXPECT_TRUE(!(c))
#define EXPECT_EQ(a, b) EXPECT_TRUE((a) == (b))
#define EXPECT_NE(a, b) EXPECT_TRUE((a) != (b))
#define EXPECT_LE(a, b) EXPECT_TRUE((a) <= (b))
#define ASSERT_EQ(a, b) ASSERT_TRUE((a) == (b))
#define GTEST_SKIP() return ::mini::Skip{} = ::mini::Message()
