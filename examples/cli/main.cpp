// smlm: the smlmkit command-line tool. Its subcommands, flags and outputs are a contract
// (DESIGN.md, "The command-line tool"): other programs call it.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include <smlm/core/config.hpp>

#include "calibrate_command.hpp"
#include "cli_common.hpp"
#include "codec_command.hpp"
#include "convert_command.hpp"
#include "demo_command.hpp"
#include "devices_command.hpp"
#include "drift_command.hpp"
#include "evaluate_command.hpp"
#include "export_command.hpp"
#include "filter_command.hpp"
#include "frc_command.hpp"
#include "info_command.hpp"
#include "simulate_command.hpp"
#include "render_command.hpp"
#include "localize_command.hpp"
#include "merge_command.hpp"
#include "models_command.hpp"
#include "reconstruct_command.hpp"
#include "train_command.hpp"

namespace {
/// Errors are printed on exactly one line.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smlm " SMLM_VERSION_STRING " — single-molecule localization microscopy toolkit (smlmkit)", "smlm"};
  app.set_version_flag("--version", "smlm " SMLM_VERSION_STRING);
  app.require_subcommand(1);
  int exit_code = 1;
  smlm::cli::register_demo(app, exit_code);
  smlm::cli::register_info(app, exit_code);
  smlm::cli::register_simulate(app, exit_code);
  smlm::cli::register_calibrate(app, exit_code);
  smlm::cli::register_evaluate(app, exit_code);
  smlm::cli::register_render(app, exit_code);
  smlm::cli::register_frc(app, exit_code);
  smlm::cli::register_codec(app, exit_code);
  smlm::cli::register_localize(app, exit_code);
  std::string command_line = "smlm";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  smlm::cli::register_train(app, exit_code, command_line);
  smlm::cli::register_reconstruct(app, exit_code);
  smlm::cli::register_models(app, exit_code);
  smlm::cli::register_drift(app, exit_code);
  smlm::cli::register_merge(app, exit_code);
  smlm::cli::register_filter(app, exit_code);
  smlm::cli::register_convert(app, exit_code);
  smlm::cli::register_export(app, exit_code);
  smlm::cli::register_devices(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "smlm: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smlm: %s\n", one_line(e.what()).c_str());
    return 1;
  }
  return exit_code;
}
