#pragma once
// The TDX build-time measurement MRTD: one running SHA-384 over the
// TDH.MEM.PAGE.ADD and TDH.MR.EXTEND operations of the TD's launch, in order
// (Intel TDX module ABI; TDVF design guide for what firmware asks for).
//
// Like the SNP calculator, it measures one description of the launch, which
// the offline tool builds from a TDVF image and a VMM from what it loads.
#include <cstdint>
#include <span>
#include <vector>

#include "attest/crypto.h"

namespace shelter::attest::tdx {

struct TdLaunchRegion {
  uint64_t gpa;    // page-aligned
  uint64_t size;   // a whole number of pages
  // Bytes loaded at gpa (zero-filled up to size); measured with
  // TDH.MR.EXTEND when extend is set, otherwise the pages are only added.
  std::vector<uint8_t> contents;
  bool extend = false;
};

struct TdLaunchDescription {
  std::vector<TdLaunchRegion> regions;
};

// Each page is added and then, if measured, its sixteen 256-byte chunks are
// extended, before the next page.
Sha384Digest mrtd(const TdLaunchDescription& launch);

// The launch a TDVF image asks for through its metadata (sections marked
// PAGE.AUG are accepted later by the guest and not measured). Throws
// EvidenceError for images without valid TDVF metadata.
TdLaunchDescription describe_tdvf_launch(std::span<const uint8_t> firmware);

}  // namespace shelter::attest::tdx
