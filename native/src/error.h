// Thread-local error state behind ssmb_last_error(), the exception type that carries a failed check
// to the ABI boundary, and guarded(): the one place where C++ exceptions stop and become a status.
#pragma once

#include <new>
#include <stdexcept>
#include <string>

#include "ssmbridge.h"

namespace ssmb {

// A failed argument check: status plus the message ssmb_last_error() will return.
class Error : public std::runtime_error {
public:
    Error(ssmb_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    ssmb_status status() const { return status_; }

private:
    ssmb_status status_;
};

void set_last_error(const std::string& message);
void clear_last_error();
const char* last_error();

// Runs an entry point's body; every exception becomes a status and ssmb_last_error()'s message.
template <class Body>
ssmb_status guarded(Body&& body) noexcept {
    clear_last_error();
    try {
        body();
        return SSMB_OK;
    } catch (const Error& e) {
        set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        set_last_error("out of memory");
        return SSMB_ERROR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_last_error(std::string("internal error: ") + e.what());
        return SSMB_ERROR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return SSMB_ERROR_INTERNAL;
    }
}

}  // namespace ssmb
