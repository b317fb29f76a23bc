// libFuzzer target for the model-file reader and writer (make fuzz).
//
// Property: any bytes either fail to read with a one-line Status naming the source, or read into
// a ModelFile that the writer accepts, whose written bytes are exactly the bytes the reader
// consumed (the encoding is canonical), and that reads back to the same metadata and tensors,
// bit for bit. Each input is tried twice: as it is, and with its last four bytes replaced by the
// CRC-32 of the bytes before them, so that mutations get past the checksum and reach the
// structure, the writer and the round trip instead of stopping at a CRC mismatch.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include <smlm/nn/model_file.hpp>

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "model_file_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

bool same_value(const smlm::nn::MetaValue& a, const smlm::nn::MetaValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a))
    return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(std::get<double>(b));
  if (const auto* x = std::get_if<std::vector<double>>(&a)) {
    const auto& y = std::get<std::vector<double>>(b);
    return x->size() == y.size() && (x->empty() || std::memcmp(x->data(), y.data(), x->size() * sizeof(double)) == 0);
  }
  return a == b;
}

void check_same(const smlm::nn::ModelFile& a, const smlm::nn::ModelFile& b) {
  if (a.metadata.size() != b.metadata.size()) fail("metadata count changed");
  for (std::size_t i = 0; i < a.metadata.size(); ++i) {
    if (a.metadata[i].key != b.metadata[i].key) fail("a key changed:", a.metadata[i].key);
    if (!same_value(a.metadata[i].value, b.metadata[i].value)) fail("a value changed:", a.metadata[i].key);
  }
  if (a.tensors.size() != b.tensors.size()) fail("tensor count changed");
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& x = a.tensors[i];
    const auto& y = b.tensors[i];
    if (x.name != y.name) fail("a tensor name changed:", x.name);
    if (x.tensor.shape() != y.tensor.shape()) fail("a tensor shape changed:", x.name);
    if (x.tensor.size() > 0 &&
        std::memcmp(x.tensor.data(), y.tensor.data(), sizeof(float) * static_cast<std::size_t>(x.tensor.size())) != 0)
      fail("tensor data changed:", x.name);
  }
}

void check(const std::string& bytes) {
  std::istringstream in(bytes);
  auto parsed = smlm::nn::read_model_file(in, "fuzz.smlm");
  if (!parsed) {
    const std::string& m = parsed.message();
    if (m.find('\n') != std::string::npos || !m.starts_with("fuzz.smlm: ") || m.size() <= 11)
      fail("an error message must be one line naming the source:", m);
    return;
  }
  const std::streamoff consumed = in.tellg();
  if (consumed < 0 || static_cast<std::size_t>(consumed) > bytes.size()) fail("the stream position after a read is lost");

  std::ostringstream out;
  if (const auto status = smlm::nn::write_model_file(out, *parsed); !status)
    fail("writing a file that was read failed:", status.message());
  const std::string written = out.str();
  if (written != bytes.substr(0, static_cast<std::size_t>(consumed))) fail("the rewritten bytes differ from the input");

  std::istringstream again_in(written);
  const auto again = smlm::nn::read_model_file(again_in, "rewritten.smlm");
  if (!again) fail("re-reading written bytes failed:", again.message());
  check_same(*parsed, *again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  check(bytes);
  if (size >= 4) {
    const std::uint32_t crc = smlm::nn::crc32(std::string_view(bytes).substr(0, size - 4));
    for (int i = 0; i < 4; ++i) bytes[size - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    check(bytes);
  }
  return 0;
}
