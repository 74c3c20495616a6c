#include "guest-init/workload.h"

#include <gtest/gtest.h>

#include <set>

#include "images/error.h"

namespace shelter::guest {
namespace {

images::Manifest manifest() {
  images::Manifest m;
  m.entrypoint = {"probe", "--flag"};
  m.args = {"a", "b c"};
  m.env = {"PATH=/opt/bin:/usr/bin", "MODE=test"};
  m.workdir = "/work";
  m.user = "1000:100";
  return m;
}

TEST(Workload, PlanJoinsEntrypointAndArgsAndParsesTheUser) {
  WorkloadPlan plan = plan_workload(manifest());
  EXPECT_EQ(plan.argv, (std::vector<std::string>{"probe", "--flag", "a", "b c"}));
  EXPECT_EQ(plan.env, manifest().env);
  EXPECT_EQ(plan.workdir, "/work");
  EXPECT_EQ(plan.uid, 1000u);
  EXPECT_EQ(plan.gid, 100u);
  EXPECT_TRUE(plan.console_output);
}

TEST(Workload, RejectsUsersThatAreNotNumericPairs) {
  for (const char* user : {"root", "0", "0:", ":0", "1:2:3", "-1:0", "4294967295:0", "0:99999999999", " 1:1"}) {
    images::Manifest m = manifest();
    m.user = user;
    EXPECT_THROW(plan_workload(m), images::FormatError) << user;
  }
}

TEST(Workload, FindsTheEntrypointInTheManifestPath) {
  std::set<std::string> files = {"/usr/bin/probe", "/bin/sh"};
  auto exists = [&](const std::string& p) { return files.contains(p); };
  std::vector<std::string> env = manifest().env;
  EXPECT_EQ(find_executable("probe", env, exists), "/usr/bin/probe");
  EXPECT_EQ(find_executable("/abs/probe", env, exists), "/abs/probe");
  EXPECT_EQ(find_executable("sh", env, exists), std::nullopt);  // not in the manifest's PATH
  EXPECT_EQ(find_executable("sh", {}, exists), "/bin/sh");      // default PATH
  EXPECT_EQ(find_executable("", env, exists), std::nullopt);
}

}  // namespace
}  // namespace shelter::guest
