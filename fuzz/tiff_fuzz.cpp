// libFuzzer target for the TIFF reader: open the bytes from memory and read every frame.
//
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//     -I/usr/include/eigen3 fuzz/tiff_fuzz.cpp -ltiff -lpng -o /tmp/tiff_fuzz
//   /tmp/tiff_fuzz -max_total_time=120 CORPUS_DIR
//
// The contract under test: any bytes give a reader or an error Status — no crash, no
// sanitizer report, no allocation beyond what the file's size can justify, nothing on stderr.
#include <cstddef>
#include <cstdint>
#include <span>

#include <smlm/io/tiff_reader.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto reader = smlm::io::TiffReader::open_memory(bytes, "fuzz.tif");
  if (!reader) return 0;
  smlm::Image<float> frame;
  for (std::ptrdiff_t f = 0; f < reader->frames(); ++f) (void)reader->read_frame(f, frame);
  // Every page again, last to first: the random-access path (TIFFSetSubDirectory).
  smlm::Image<std::uint8_t> narrow;
  for (std::ptrdiff_t f = reader->frames() - 1; f >= 0 && f >= reader->frames() - 4; --f) (void)reader->read_frame(f, narrow);
  return 0;
}
