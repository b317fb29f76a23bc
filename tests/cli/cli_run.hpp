// Shared helpers of the `smlm` CLI tests: run the built tool, count lines, read fields.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>
#include <sys/wait.h>

namespace smlm::cli_test {

struct Run {
  int exit_code;
  std::string output;  // stdout and stderr together
};
inline Run run_smlm(const std::string& args) {
  const std::string command = std::string(SMLM_CLI_PATH) + " " + args + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
inline int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
inline const std::string data_dir = SMLM_SHARED_DATA_DIR;
inline const std::string tmp_dir = SMLM_TEST_TMP_DIR;
inline const std::string truth_csv = data_dir + "/thunderstorm_sim_20frames_positions.csv";

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The value after "key=" in a line of key=value fields (a field at the start or after a space).
inline double field(const std::string& line, const std::string& key) {
  const auto spaced = line.find(" " + key + "=");
  const auto at = spaced != std::string::npos ? spaced + 1 : line.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stod(line.substr(at + key.size() + 1));
}
/// The text after " key=" up to the next space or line end (for fields compared as printed).
inline std::string text_field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  REQUIRE(at != std::string::npos);
  const auto start = at + key.size() + 2;
  return line.substr(start, line.find_first_of(" \n", start) - start);
}
inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(s.substr(start, nl - start));
  return out;
}

/// A fresh, empty folder under the test tmp dir.
inline std::string fresh_dir(const std::string& name) {
  const std::string dir = tmp_dir + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Names of the files in `dir`, sorted.
inline std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

/// Width and height from a PNG's IHDR; {0, 0} unless the file starts with the PNG signature.
inline std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& path) {
  const std::string bytes = slurp(path);
  static const std::string signature{"\x89PNG\r\n\x1a\n", 8};
  if (bytes.size() < 24 || bytes.compare(0, 8, signature) != 0 || bytes.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](std::size_t i) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(bytes[i + k]);
    return v;
  };
  return {be32(16), be32(20)};
}

}  // namespace smlm::cli_test
