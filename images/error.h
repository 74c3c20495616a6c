#pragma once
#include "common/error.h"

namespace shelter::images {

// A malformed, truncated or inconsistent image or manifest.
class FormatError : public Error {
 public:
  using Error::Error;
};

}  // namespace shelter::images
