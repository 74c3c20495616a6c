#pragma once
#include "common/error.h"

namespace shelter::attest {

// Evidence, collateral or firmware that cannot be parsed: truncated,
// oversized, of an unknown version, or inconsistent with itself.
class EvidenceError : public Error {
 public:
  using Error::Error;
};

}  // namespace shelter::attest
