#pragma once
// A scratch directory of the running GoogleTest case, under the temporary
// directory and named after the prefix, the process and the test, so that
// parallel test processes never share one. Emptied and created on each call;
// the fixture removes it in TearDown.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace shelter::testing {

inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              (prefix + "-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace shelter::testing
