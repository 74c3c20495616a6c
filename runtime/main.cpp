// shelter: build measured images and run them in confidential VMs.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "common/error.h"
#include "runtime/cli/build_command.h"
#include "runtime/cli/command.h"
#include "runtime/cli/inspect_command.h"
#include "runtime/cli/kbs_command.h"
#include "runtime/cli/verify_image_command.h"
#include "runtime/cli/logging.h"
#include "runtime/cli/measure_command.h"
#include "runtime/cli/run_command.h"
#include "runtime/cli/verify_evidence_command.h"
#include "runtime/cli/vm_command.h"

namespace {

void print_error(const std::string& message) {
  std::fprintf(stderr, "shelter: error: %s\n", message.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shelter::cli;

  CLI::App app{"Shelter runs unmodified AI workloads inside confidential VMs.", "shelter"};
  app.set_version_flag("--version", SHELTER_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Diagnostics on stderr")
      ->check(CLI::IsMember(log_level_names()))
      ->capture_default_str();
  app.require_subcommand(0, 1);
  app.fallthrough();

  Commands commands;
  add_verify_evidence_command(app, commands);
  add_measure_command(app, commands);
  add_build_command(app, commands);
  add_inspect_command(app, commands);
  add_verify_image_command(app, commands);
  add_vm_command(app, commands);
  add_run_command(app, commands);
  add_kbs_command(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(std::string(e.what()) + " (see --help)");
    return kExitUsage;
  }

  setup_logging(log_level);
  for (const Command& command : commands) {
    if (!command.parser->parsed()) continue;
    try {
      return command.run();
    } catch (const shelter::Error& e) {
      print_error(e.what());
    } catch (const std::exception& e) {
      print_error(std::string("internal error: ") + e.what());
    }
    return command.failure_status;
  }
  std::fputs(app.help().c_str(), stdout);
  return kExitOk;
}
