// Thread-local error state behind ssmb_last_error(), and the exception type used inside api.cpp to
// carry a failed check to the single catch at the ABI boundary.
#pragma once

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

}  // namespace ssmb
