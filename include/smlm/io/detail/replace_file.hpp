// Writing a file so that it is replaced only once complete: the contents go to "<path>.partial",
// which is renamed over `path` on success and removed on failure, so a failed or killed write
// never leaves a truncated file under the final name and never destroys the previous one. Paths
// that exist but are not regular files (a FIFO, /dev/stdout, a symbolic link) are written in
// place. Used by the CSV and PNG writers (the TIFF writer instead keeps every completed page
// readable, tiff_writer.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <smlm/core/status.hpp>

namespace smlm::io::detail {

struct replace_target {
  std::string path;     ///< the file the caller asked for
  std::string written;  ///< where the bytes go: path + ".partial", or path itself (not a regular file)
  bool replace = true;  ///< written is a temporary to rename over path

  explicit replace_target(std::string p) : path(std::move(p)) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status existing = fs::symlink_status(path, ec);
    replace = !fs::exists(existing) || fs::is_regular_file(existing);
    written = replace ? path + ".partial" : path;
  }

  /// After the bytes are written (and the file closed) with `status`: renames on success, removes
  /// the temporary on failure; returns the final status.
  Status finish(Status status) const {
    if (!replace) return status;
    std::error_code ec;
    if (status.ok()) {
      std::filesystem::rename(written, path, ec);
      if (ec) status = make_error(errc::io_error, path, ": cannot replace with ", written, ": ", ec.message());
    }
    if (!status.ok()) std::filesystem::remove(written, ec);
    return status;
  }
};

}  // namespace smlm::io::detail
