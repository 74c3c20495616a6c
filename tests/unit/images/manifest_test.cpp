#include "images/manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "images/error.h"

namespace shelter::images {
namespace {

Manifest sample() {
  Manifest m;
  m.entrypoint = {"/usr/bin/tesseract"};
  m.args = {"/sample.png", "-"};
  m.env = {"PATH=/usr/bin", "OMP_THREAD_LIMIT=1"};
  m.workdir = "/work";
  return m;
}

TEST(Manifest, RoundTripsThroughJson) {
  Manifest m = sample();
  EXPECT_EQ(parse_manifest(manifest_to_json(m).dump()), m);
}

TEST(Manifest, RejectsMalformedInput) {
  nlohmann::json good = manifest_to_json(sample());
  EXPECT_THROW(parse_manifest("{"), FormatError);
  EXPECT_THROW(parse_manifest("[]"), FormatError);
  for (const char* name : {"entrypoint", "args", "env", "workdir", "user", "console_output",
                           "allow_host_args"}) {
    nlohmann::json missing = good;
    missing.erase(name);
    EXPECT_THROW(manifest_from_json(missing), FormatError) << name;
    nlohmann::json wrong_type = good;
    wrong_type[name] = 7;
    EXPECT_THROW(manifest_from_json(wrong_type), FormatError) << name;
  }
  nlohmann::json bad = good;
  bad["entrypoint"] = nlohmann::json::array();
  EXPECT_THROW(manifest_from_json(bad), FormatError);
  bad = good;
  bad["workdir"] = "relative";
  EXPECT_THROW(manifest_from_json(bad), FormatError);
  bad = good;
  bad["env"] = {"NOEQUALS"};
  EXPECT_THROW(manifest_from_json(bad), FormatError);
  bad = good;
  bad["args"] = {1};
  EXPECT_THROW(manifest_from_json(bad), FormatError);
}

}  // namespace
}  // namespace shelter::images
