// model_file.hpp: the CRC-32, the byte layout, bit-exact round trips, hostile input (every
// truncation, every single-byte change, crafted malformed files), networks saved and restored
// with and without optimizer state, architecture mismatches, and atomic saving.
#include <doctest/doctest.h>

#include <smlm/nn/model_file.hpp>
#include <smlm/nn/nn.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::errc;
using smlm::testing::random_tensor;

namespace {

/// Little-endian byte builder for hand-made files.
struct Bytes {
  std::string b;
  Bytes& u(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
    return *this;
  }
  Bytes& u8(std::uint64_t v) { return u(v, 1); }
  Bytes& u16(std::uint64_t v) { return u(v, 2); }
  Bytes& u32(std::uint64_t v) { return u(v, 4); }
  Bytes& i64(std::int64_t v) { return u(static_cast<std::uint64_t>(v), 8); }
  Bytes& f64(double v) { return u(std::bit_cast<std::uint64_t>(v), 8); }
  Bytes& f32(float v) { return u(std::bit_cast<std::uint32_t>(v), 4); }
  Bytes& str(std::string_view s) {
    b += s;
    return *this;
  }
  /// The header of a version-`version` file.
  static Bytes header(std::uint32_t version = 1, std::uint32_t flags = 0) {
    Bytes h;
    h.str(std::string_view("SMLMNET\x1a", 8)).u32(version).u32(flags);
    return h;
  }
  /// The bytes followed by their CRC-32.
  std::string sealed() const {
    Bytes out = *this;
    out.u32(crc32(b));
    return out.b;
  }
};

smlm::Expected<ModelFile> parse(const std::string& bytes, std::string source = "test.smlm") {
  std::istringstream in(bytes);
  return read_model_file(in, std::move(source));
}

std::string serialize(const ModelFile& f) {
  std::ostringstream out;
  const auto status = write_model_file(out, f);
  REQUIRE_MESSAGE(status.ok(), status.message());
  return out.str();
}

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

bool same_value(const MetaValue& a, const MetaValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) return same_bits(*x, std::get<double>(b));
  if (const auto* x = std::get_if<std::vector<double>>(&a)) {
    const auto& y = std::get<std::vector<double>>(b);
    if (x->size() != y.size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i)
      if (!same_bits((*x)[i], y[i])) return false;
    return true;
  }
  return a == b;
}

template <class T>
bool same_tensor(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(T) * std::size_t(a.size())) == 0);
}

/// A small file with every metadata type and two tensors (a couple of hundred bytes).
ModelFile small_file() {
  ModelFile f;
  f.set("arch", std::string("unet"));
  f.set("depth", std::int64_t{3});
  f.set("pixel_nm", 107.5);
  f.set("photons", std::vector<double>{200.0, 5000.0});
  Tensor<float> w({2, 1, 2, 2});
  for (std::ptrdiff_t i = 0; i < w.size(); ++i) w[i] = 0.25f * float(i) - 1.0f;
  f.set_tensor("param.0", std::move(w));
  f.set_tensor("buffer.0", Tensor<float>({1, 2, 1, 1}, 0.5f));
  return f;
}

using Net = Sequential<ConvBnAct<float>, MaxPool2<float>, ConvBnAct<float>, UpsampleNearest<float>, Conv2d<float>>;
Net make_net(std::ptrdiff_t mid, std::uint64_t seed) {
  Net net(conv_bn_act<float>(1, 4), MaxPool2<float>{}, conv_bn_act<float>(4, mid), UpsampleNearest<float>{2},
          Conv2d<float>(mid, 1, 1, {}, true));
  std::uint32_t stream = 0;
  net.init(seed, stream);
  return net;
}

template <class N>
void train(N& net, int steps) {
  const auto x = random_tensor<float>({4, 1, 8, 8}, 5, 1);
  const auto t = random_tensor<float>({4, 1, 8, 8}, 5, 2);
  Adam<float> adam({.lr = 1e-2});
  Tape<float> tape;
  for (int s = 0; s < steps; ++s) {
    tape.reset();
    zero_grad(net);
    tape.backward(mse(tape, net.forward(tape, tape.input(x.view())), tape.input(t.view())));
    adam.step(net);
  }
}

template <class N>
std::vector<float> infer(N& net) {
  const auto x = random_tensor<float>({2, 1, 8, 8}, 9, 3);
  Tape<float> tape;
  tape.set_mode(Mode::inference);
  tape.set_recording(false);
  const auto y = net.forward(tape, tape.input(x.view()));
  return {y.value.begin(), y.value.end()};
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

template <class N>
std::vector<float> all_weights(N& net) {
  std::vector<float> w;
  net.for_each_parameter([&](Parameter<float>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
  for_each_buffer(net, [&](Tensor<float>& b) { w.insert(w.end(), b.begin(), b.end()); });
  return w;
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

std::string tmp_dir() {
  const std::string dir = std::string(SMLM_TEST_TMP_DIR) + "/model_file";
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("model file: CRC-32 known answers (IEEE 802.3 / zlib)") {
  static_assert(crc32("123456789") == 0xCBF43926u);
  const std::string check = "123456789";
  CHECK(crc32(0, check.data(), check.size()) == 0xCBF43926u);
  CHECK(crc32("") == 0u);
  CHECK(crc32("a") == 0xE8B7BE43u);
  CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  CHECK(crc32("6789", crc32("12345")) == 0xCBF43926u);  // zlib's continuation convention
  CHECK(crc32(crc32(0, check.data(), 4), check.data() + 4, 5) == 0xCBF43926u);
}

TEST_CASE("model file: the writer produces exactly the documented byte layout") {
  ModelFile f;
  f.set("k", std::int64_t{-2});
  Tensor<float> t({1, 1, 1, 2});
  t[0] = 1.0f, t[1] = -2.5f;
  f.set_tensor("t", std::move(t));
  const unsigned char body[] = {
      'S', 'M', 'L', 'M', 'N', 'E', 'T', 0x1A,  // magic
      1, 0, 0, 0,                               // version 1
      0, 0, 0, 0,                               // flags
      1, 0, 0, 0,                               // 1 metadata entry
      1, 0, 'k',                                // key length 1, "k"
      1,                                        // tag int64
      0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // -2
      1, 0, 0, 0,                               // 1 tensor
      1, 0, 't',                                // name length 1, "t"
      1,                                        // dtype float32
      1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,  // shape
      0x00, 0x00, 0x80, 0x3F,                   // 1.0f
      0x00, 0x00, 0x20, 0xC0,                   // -2.5f
  };
  const std::string expected(reinterpret_cast<const char*>(body), sizeof(body));
  const std::string written = serialize(f);
  REQUIRE(written.size() == expected.size() + 4);
  CHECK(written.substr(0, expected.size()) == expected);
  const std::uint32_t crc = crc32(expected);
  CHECK(written.substr(expected.size()) == Bytes().u32(crc).b);
}

TEST_CASE("model file: every metadata type and tensor round-trips bit-exactly") {
  ModelFile f;
  f.set("int.min", std::numeric_limits<std::int64_t>::min());
  f.set("int.max", std::numeric_limits<std::int64_t>::max());
  f.set("int.neg", std::int64_t{-1});
  f.set("f64.negzero", -0.0);
  f.set("f64.denorm_min", std::numeric_limits<double>::denorm_min());
  f.set("f64.subnormal", -1e-310);
  f.set("f64.big", 1e300);
  f.set("f64.inf", -std::numeric_limits<double>::infinity());
  f.set("f64.nan_payload", std::bit_cast<double>(std::uint64_t{0x7FF8000000000123}));
  f.set("str.empty", std::string());
  static constexpr char utf8[] = "\xC2\xB5m, \"quoted\", with a NUL \0 inside";
  f.set("str.utf8", std::string(utf8, sizeof(utf8) - 1));
  f.set("arr.empty", std::vector<double>{});
  f.set("arr.mixed", std::vector<double>{-0.0, 5e-324, 1e300, 0.1, std::bit_cast<double>(std::uint64_t{0xFFF0000000000001})});
  auto big = random_tensor<float>({2, 3, 4, 5}, 1, 1);
  big[0] = -0.0f;
  big[1] = std::numeric_limits<float>::denorm_min();
  big[2] = std::bit_cast<float>(std::uint32_t{0x7FC00123});
  big[3] = -std::numeric_limits<float>::infinity();
  f.set_tensor("big", big);
  f.set_tensor("empty", Tensor<float>({0, 3, 1, 1}));
  f.set_tensor("scalar", Tensor<float>({1, 1, 1, 1}, 3.5f));

  const std::string bytes = serialize(f);
  const auto back = parse(bytes, "round.smlm");
  REQUIRE_MESSAGE(back, back.message());
  CHECK(back->source == "round.smlm");
  REQUIRE(back->metadata.size() == f.metadata.size());
  for (std::size_t i = 0; i < f.metadata.size(); ++i) {
    CAPTURE(f.metadata[i].key);
    CHECK(back->metadata[i].key == f.metadata[i].key);
    CHECK(same_value(back->metadata[i].value, f.metadata[i].value));
  }
  REQUIRE(back->tensors.size() == f.tensors.size());
  for (std::size_t i = 0; i < f.tensors.size(); ++i) {
    CAPTURE(f.tensors[i].name);
    CHECK(back->tensors[i].name == f.tensors[i].name);
    CHECK(same_tensor(back->tensors[i].tensor, f.tensors[i].tensor));
  }
  CHECK(serialize(*back) == bytes);  // the encoding is canonical

  // The reader stops right after the CRC: two files back to back in one stream read one by one.
  std::istringstream two(bytes + serialize(small_file()));
  const auto first = read_model_file(two);
  const auto second = read_model_file(two);
  REQUIRE(first);
  REQUIRE_MESSAGE(second, second.message());
  CHECK(first->metadata.size() == f.metadata.size());
  CHECK(second->get_string("arch").value() == "unet");
  CHECK(second->source == "<stream>");
}

TEST_CASE("model file: lookups name the source, the key and the expected type") {
  ModelFile f = small_file();
  f.source = "m.smlm";
  CHECK(f.get_int("depth").value() == 3);
  CHECK(f.get_double("pixel_nm").value() == 107.5);
  CHECK(f.get_string("arch").value() == "unet");
  CHECK(f.get_doubles("photons").value() == std::vector<double>{200.0, 5000.0});

  const auto wrong = f.get_double("depth");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.status().code() == errc::format_error);
  CHECK(wrong.message() == "m.smlm: metadata key \"depth\" has type int64, expected float64");
  const auto missing = f.get_string("camera");
  REQUIRE_FALSE(missing);
  CHECK(missing.message() == "m.smlm: metadata key \"camera\" is missing (expected string)");
  CHECK_FALSE(f.get_doubles("arch"));
  CHECK_FALSE(f.get_int("pixel_nm"));

  const std::size_t entries = f.metadata.size();
  f.set("depth", 2.5);  // replaces in place, keeps the order
  CHECK(f.metadata.size() == entries);
  CHECK(f.metadata[1].key == "depth");
  CHECK(f.get_double("depth").value() == 2.5);
  f.set("new", std::int64_t{1});
  CHECK(f.metadata.size() == entries + 1);
  CHECK(f.metadata.back().key == "new");
  CHECK(f.find_tensor("param.0") != nullptr);
  CHECK(f.find_tensor("param.9") == nullptr);
}

TEST_CASE("model file: a trained network round-trips with bit-identical outputs and Adam state") {
  Net trained = make_net(8, 3);
  train(trained, 4);
  const auto& bn = trained.get<0>().bn;
  bool stats_moved = false;
  for (std::ptrdiff_t c = 0; c < bn.running_mean.size(); ++c) stats_moved |= bn.running_mean[c] != 0.0f;
  REQUIRE(stats_moved);  // the running statistics are not their initial values

  SUBCASE("with optimizer state") {
    ModelFile f;
    f.set("arch", std::string("test"));
    store_network(trained, f, true);
    CHECK(f.find_tensor("param.0.m") != nullptr);
    CHECK(f.find_tensor("buffer.3") != nullptr);  // two batch norms, two statistics each
    CHECK(f.get_int("param.7.steps").value() == 4);
    const auto back = parse(serialize(f));
    REQUIRE_MESSAGE(back, back.message());

    Net fresh = make_net(8, 11);
    REQUIRE_FALSE(same_floats(infer(fresh), infer(trained)));
    const auto status = restore_network(fresh, *back, true);
    REQUIRE_MESSAGE(status.ok(), status.message());
    CHECK(same_floats(infer(fresh), infer(trained)));

    std::vector<Parameter<float>*> a, b;
    trained.for_each_parameter([&](Parameter<float>& p) { a.push_back(&p); });
    fresh.for_each_parameter([&](Parameter<float>& p) { b.push_back(&p); });
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CAPTURE(i);
      CHECK(same_tensor(a[i]->value, b[i]->value));
      CHECK(same_tensor(a[i]->moment1, b[i]->moment1));
      CHECK(same_tensor(a[i]->moment2, b[i]->moment2));
      CHECK(a[i]->steps == b[i]->steps);
    }
    // Training on from the checkpoint continues exactly as the original does.
    train(trained, 2);
    train(fresh, 2);
    CHECK(same_floats(all_weights(fresh), all_weights(trained)));
  }
  SUBCASE("without optimizer state, and storing again replaces the network entries") {
    ModelFile f;
    store_network(trained, f, true);
    f.set("arch", std::string("test"));
    store_network(trained, f, false);
    CHECK(f.get_string("arch").value() == "test");
    for (const auto& t : f.tensors) CHECK_MESSAGE(t.name.find(".m") == std::string::npos, t.name);
    for (const auto& e : f.metadata) CHECK_MESSAGE(e.key.find(".steps") == std::string::npos, e.key);
    CHECK(f.tensors.size() == 8 + 4);

    Net fresh = make_net(8, 11);
    const auto status = restore_network(fresh, *parse(serialize(f)), false);
    REQUIRE_MESSAGE(status.ok(), status.message());
    CHECK(same_floats(infer(fresh), infer(trained)));
    fresh.for_each_parameter([](Parameter<float>& p) {
      CHECK(p.moment1.empty());
      CHECK(p.steps == 0);
    });
    // A model file is not a checkpoint: asking for the optimizer state names what is missing.
    const auto no_state = restore_network(fresh, f, true);
    REQUIRE_FALSE(no_state.ok());
    CHECK(no_state.message().find("\"param.0.steps\" is missing") != std::string::npos);
  }
}

TEST_CASE("model file: a network of another architecture is refused, naming the tensor") {
  Net eight = make_net(8, 3);
  ModelFile f;
  store_network(eight, f);
  f.source = "eight.smlm";

  SUBCASE("a different channel count") {
    Net six = make_net(6, 4);
    const auto before = all_weights(six);
    const auto status = restore_network(six, f);
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == errc::format_error);
    CHECK(status.message() ==
          "eight.smlm: tensor \"param.3\" has shape [8, 4, 3, 3] in the file, the network expects [6, 4, 3, 3]");
    CHECK(same_floats(all_weights(six), before));  // nothing changed
  }
  SUBCASE("a file with more tensors than the network") {
    auto one = Sequential(conv_bn_act<float>(1, 4));
    const auto status = restore_network(one, f);
    REQUIRE_FALSE(status.ok());
    CHECK(status.message() == "eight.smlm: the file holds 8 parameter tensors (param.<i>), the network 3");
  }
  SUBCASE("a file with fewer tensors than the network") {
    auto one = Sequential(conv_bn_act<float>(1, 4));
    ModelFile small;
    store_network(one, small);
    small.source = "one.smlm";
    const auto status = restore_network(eight, small);
    REQUIRE_FALSE(status.ok());
    CHECK(status.message() == "one.smlm: no tensor \"param.3\" (the network has 8 parameter tensors, the file 3)");
  }
  SUBCASE("a buffer of another shape") {
    f.set_tensor("buffer.1", Tensor<float>({1, 5, 1, 1}));
    const auto status = restore_network(eight, f);
    REQUIRE_FALSE(status.ok());
    CHECK(status.message() ==
          "eight.smlm: tensor \"buffer.1\" has shape [1, 5, 1, 1] in the file, the network expects [1, 4, 1, 1]");
  }
}

TEST_CASE("model file: every truncation of a small file is an error naming where it ends") {
  const std::string bytes = serialize(small_file());
  REQUIRE(bytes.size() < 400);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    const auto r = parse(bytes.substr(0, n), "cut.smlm");
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == errc::format_error);
    CHECK(one_line(r.message()));
    CHECK(r.message().starts_with("cut.smlm: "));
    if (n > 0) CHECK(r.message().find("truncated") != std::string::npos);
  }
  CHECK(parse(bytes.substr(0, 0)).message() == "test.smlm: not a smlmkit model file: the input is empty");
  // The CRC's own bytes cut off: the message names the field and its offset.
  CHECK(parse(bytes.substr(0, bytes.size() - 1)).message() ==
        smlm::str_cat("test.smlm: truncated: the CRC-32 at byte ", bytes.size() - 4,
                      " needs 4 bytes, the input ends after 3"));
  CHECK(parse(bytes).has_value());
}

TEST_CASE("model file: every single-byte change of a small file is detected") {
  const std::string bytes = serialize(small_file());
  int crc = 0, structure = 0, unsupported = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (const unsigned mask : {0x01u, 0x02u, 0x04u, 0x08u, 0x10u, 0x20u, 0x40u, 0x80u, 0xFFu}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ mask);
      const auto r = parse(bad);
      CAPTURE(i);
      CAPTURE(mask);
      REQUIRE_FALSE(r);
      CHECK(one_line(r.message()));
      if (r.status().code() == errc::unsupported) ++unsupported;
      else if (r.message().find("CRC-32 mismatch") != std::string::npos) ++crc;
      else ++structure;
      CHECK((r.status().code() == errc::format_error || r.status().code() == errc::unsupported));
    }
  }
  MESSAGE("single-byte changes: " << crc << " CRC mismatches, " << structure << " structural errors, " << unsupported
                                  << " future versions");
  CHECK(crc > 0);
}

TEST_CASE("model file: a newer format version is refused as unsupported") {
  std::string bytes = serialize(small_file());
  bytes[8] = 2;
  const std::string resealed = Bytes().str(bytes.substr(0, bytes.size() - 4)).sealed();
  for (const std::string& b : {bytes, resealed}) {
    const auto r = parse(b, "future.smlm");
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == errc::unsupported);
    CHECK(r.message() == "future.smlm: format version 2 is newer than this build reads (1)");
  }
  const auto zero = parse(Bytes::header(0).u32(0).u32(0).sealed());
  REQUIRE_FALSE(zero);
  CHECK(zero.status().code() == errc::format_error);
  CHECK(zero.message().find("format version 0") != std::string::npos);
}

TEST_CASE("model file: another kind of file is named as such") {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  const auto r = parse(png, "picture.png");
  REQUIRE_FALSE(r);
  CHECK(r.status().code() == errc::format_error);
  CHECK(r.message() ==
        "picture.png: not a smlmkit model file: it starts with 89 50 4e 47 0d 0a 1a 0a, not the magic bytes "
        "53 4d 4c 4d 4e 45 54 1a (\"SMLMNET\" 0x1A)");
  CHECK(parse("SMLMNEX\x1a....").message().find("not a smlmkit model file") != std::string::npos);
  CHECK(parse("hi").message() == "test.smlm: not a smlmkit model file: it starts with 68 69, not the magic bytes "
                                 "53 4d 4c 4d 4e 45 54 1a (\"SMLMNET\" 0x1A)");
}

TEST_CASE("model file: malformed structure is refused with the entry, the offset and the value") {
  const auto message = [](const std::string& bytes) {
    const auto r = parse(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == errc::format_error);
    CHECK(one_line(r.message()));
    return r.message();
  };
  const auto meta = [](std::uint32_t count) { return Bytes::header().u32(count); };
  CHECK(message(meta(2).u16(1).str("a").u8(1).i64(1).u16(1).str("a").u8(2).f64(2).u32(0).sealed()) ==
        "test.smlm: metadata entry 1 at byte 32: duplicate key \"a\"");
  CHECK(message(meta(1).u16(1).str("a").u8(9).i64(1).u32(0).sealed()) ==
        "test.smlm: metadata entry 0 \"a\": unknown type tag 9 at byte 23 (1 int64, 2 float64, 3 string, 4 float64 array)");
  CHECK(message(meta(1).u16(0).u8(1).i64(1).u32(0).sealed()) == "test.smlm: metadata entry 0 at byte 20 has an empty key");
  CHECK(message(meta(0xFFFFFFFF).sealed()) == "test.smlm: metadata count 4294967295 at byte 16 is above the limit 1048576");
  CHECK(message(Bytes::header(1, 4).u32(0).u32(0).sealed()) ==
        "test.smlm: flags 0x00000004 at byte 12: format version 1 defines no flags (they must be 0)");
  // A declared length far past the end is a truncation, not a 4 GiB allocation.
  CHECK(message(meta(1).u16(1).str("s").u8(3).u32(0xFFFFFFFF).str("abc").b) ==
        "test.smlm: truncated: the string value of metadata entry 0 \"s\" at byte 28 needs 4294967295 bytes, the input "
        "ends after 3");
  CHECK(message(meta(1).u16(1).str("d").u8(4).u32(0xFFFFFFFF).f64(1).b).find("needs 34359738360 bytes") !=
        std::string::npos);
  CHECK(message(meta(1).u16(0xFFFF).str("k").b) ==
        "test.smlm: truncated: the key of metadata entry 0 at byte 22 needs 65535 bytes, the input ends after 1");

  const auto tensors = [](std::uint32_t count) { return Bytes::header().u32(0).u32(count); };
  const auto shape = [](Bytes b, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    return b.i64(n).i64(c).i64(h).i64(w);
  };
  CHECK(message(shape(tensors(1).u16(1).str("t").u8(2), 1, 1, 1, 1).f32(0).sealed()) ==
        "test.smlm: tensor 0 \"t\": unknown dtype 2 at byte 27 (1 float32)");
  CHECK(message(shape(tensors(1).u16(1).str("t").u8(1), 1, -1, 1, 1).sealed()) ==
        "test.smlm: tensor 0 \"t\" at byte 28: shape [1, -1, 1, 1] has a negative extent");
  CHECK(message(shape(tensors(1).u16(1).str("t").u8(1), 1 << 20, 1 << 20, 1, 1).sealed()) ==
        "test.smlm: tensor 0 \"t\" at byte 28: shape [1048576, 1048576, 1, 1] has more than 2147483648 elements");
  CHECK(message(shape(tensors(1).u16(1).str("t").u8(1), std::int64_t(1) << 40, 0, 1, 1).sealed()).find(
            "has an extent above 2147483647") != std::string::npos);
  // 2^30 declared elements with four bytes of data: truncated, without allocating 4 GiB first.
  CHECK(message(shape(tensors(1).u16(1).str("t").u8(1), 1, 1, 1 << 15, 1 << 15).f32(1).b) ==
        "test.smlm: truncated: the data of tensor 0 \"t\" [1, 1, 32768, 32768] at byte 60 needs 4294967296 bytes, the "
        "input ends after 4");
  Bytes dup = tensors(2);
  dup = shape(dup.u16(1).str("t").u8(1), 1, 1, 1, 1).f32(1);
  dup = shape(dup.u16(1).str("t").u8(1), 1, 1, 1, 1).f32(2);
  CHECK(message(dup.sealed()) == "test.smlm: tensor 1 at byte 64: duplicate name \"t\"");
  CHECK(message(tensors(1).u16(2).str("\n\"").b).find("truncated") != std::string::npos);
  CHECK(message(tensors(1).u16(2).str("\n\"").u8(7).sealed()).find("\"\\x0a\\\"\"") != std::string::npos);  // escaped

  std::string flipped = serialize(small_file());
  flipped[flipped.size() - 1] = static_cast<char>(flipped.back() ^ 0x40);
  const std::string good = serialize(small_file());
  const std::uint32_t computed = crc32(good.substr(0, good.size() - 4));
  const std::uint32_t stored = computed ^ 0x40000000u;
  char hex[2][11];
  std::snprintf(hex[0], sizeof hex[0], "0x%08x", stored);
  std::snprintf(hex[1], sizeof hex[1], "0x%08x", computed);
  CHECK(message(flipped) == smlm::str_cat("test.smlm: CRC-32 mismatch: stored ", hex[0], " at byte ", good.size() - 4,
                                          ", computed ", hex[1], " over bytes 0..", good.size() - 5,
                                          " (the file is corrupt)"));
}

TEST_CASE("model file: the writer refuses what a reader would refuse, before writing a byte") {
  const auto refused = [](const ModelFile& f) {
    std::ostringstream out;
    const auto status = write_model_file(out, f);
    CHECK_FALSE(status.ok());
    CHECK(status.code() == errc::invalid_argument);
    CHECK(out.str().empty());
    return status.message();
  };
  ModelFile dup = small_file();
  dup.metadata.push_back({"depth", std::int64_t{4}});
  CHECK(refused(dup) == "<stream>: metadata key \"depth\" appears twice");
  ModelFile empty_name = small_file();
  empty_name.tensors.push_back({"", Tensor<float>({1, 1, 1, 1})});
  CHECK(refused(empty_name) == "<stream>: tensor 2 has an empty name");
  ModelFile long_key;
  long_key.set(std::string(70000, 'k'), 1.0);
  CHECK(refused(long_key).find("70000 bytes long, more than 65535") != std::string::npos);
  ModelFile dup_tensor = small_file();
  dup_tensor.tensors.push_back({"param.0", Tensor<float>()});
  CHECK(refused(dup_tensor) == "<stream>: tensor name \"param.0\" appears twice");
}

TEST_CASE("model file: save_model_file replaces atomically and leaves nothing behind on failure") {
  namespace fs = std::filesystem;
  const std::string dir = tmp_dir();
  const std::string path = dir + "/net.smlm";
  fs::remove(path);
  fs::remove(path + ".tmp");

  ModelFile f = small_file();
  REQUIRE(save_model_file(path, f).ok());
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
  auto loaded = load_model_file(path);
  REQUIRE_MESSAGE(loaded, loaded.message());
  CHECK(loaded->source == path);
  CHECK(serialize(*loaded) == serialize(f));

  f.set("depth", std::int64_t{5});
  REQUIRE(save_model_file(path, f).ok());
  CHECK(load_model_file(path)->get_int("depth").value() == 5);
  CHECK_FALSE(fs::exists(path + ".tmp"));

  SUBCASE("the directory does not exist") {
    const std::string missing = dir + "/no_such_dir/net.smlm";
    const auto status = save_model_file(missing, f);
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == errc::io_error);
    CHECK(status.message().starts_with(missing + ": cannot create " + missing + ".tmp"));
    CHECK_FALSE(fs::exists(missing));
    CHECK_FALSE(fs::exists(missing + ".tmp"));
  }
  SUBCASE("the path is a directory: the rename fails and the .tmp file is removed") {
    const std::string taken = dir + "/taken.smlm";
    fs::create_directories(taken);
    const auto status = save_model_file(taken, f);
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == errc::io_error);
    CHECK(status.message().find("cannot replace it") != std::string::npos);
    CHECK(fs::is_directory(taken));
    CHECK_FALSE(fs::exists(taken + ".tmp"));
    const auto load = load_model_file(taken);
    REQUIRE_FALSE(load);
    CHECK(load.status().code() == errc::io_error);
  }
  SUBCASE("an invalid file is refused before anything is created") {
    ModelFile bad = f;
    bad.tensors.push_back({"", Tensor<float>()});
    const std::string other = dir + "/invalid.smlm";
    fs::remove(other);
    CHECK(save_model_file(other, bad).code() == errc::invalid_argument);
    CHECK_FALSE(fs::exists(other));
    CHECK_FALSE(fs::exists(other + ".tmp"));
  }
  SUBCASE("loading: a missing file, and bytes after the CRC") {
    const auto none = load_model_file(dir + "/absent.smlm");
    REQUIRE_FALSE(none);
    CHECK(none.status().code() == errc::io_error);
    CHECK(none.message().starts_with(dir + "/absent.smlm: cannot open"));
    {
      std::ofstream append(path, std::ios::binary | std::ios::app);
      append << "junk";
    }
    const auto junk = load_model_file(path);
    REQUIRE_FALSE(junk);
    CHECK(junk.status().code() == errc::format_error);
    CHECK(junk.message().find("unexpected bytes after the CRC-32") != std::string::npos);
  }
}

TEST_CASE("model file: a second network under a prefix (a discriminator beside its generator)") {
  using G = Sequential<ConvBnAct<float>, Conv2d<float>>;
  G g(conv_bn_act<float>(1, 3, 3), Conv2d<float>(3, 1, 3, {}, true));
  std::uint32_t stream = 0;
  g.init(11, stream);
  PatchGan<float> d(2, 2);
  d.init(12);
  d.for_each_parameter([](Parameter<float>& p) {  // an optimizer state to carry
    p.moment1 = p.value;
    p.moment2 = p.value;
    p.steps = 5;
  });
  ModelFile f;
  store_network(g, f, true);
  store_network(d, f, true, "disc.");
  REQUIRE(f.find_tensor("disc.param.0") != nullptr);
  REQUIRE(f.find_tensor("disc.buffer.0") != nullptr);
  // Storing the generator again replaces its own tensors only.
  const std::size_t count = f.tensors.size();
  store_network(g, f, true);
  CHECK(f.tensors.size() == count);

  PatchGan<float> back(2, 2);
  back.init(13);
  REQUIRE(restore_network(back, f, true, "disc.").ok());
  std::vector<float> a, b;
  d.for_each_parameter([&](Parameter<float>& p) { a.insert(a.end(), p.moment2.begin(), p.moment2.end()); });
  back.for_each_parameter([&](Parameter<float>& p) {
    b.insert(b.end(), p.moment2.begin(), p.moment2.end());
    CHECK(p.steps == 5);
  });
  CHECK(a == b);
  G g2(conv_bn_act<float>(1, 3, 3), Conv2d<float>(3, 1, 3, {}, true));
  CHECK(restore_network(g2, f, true).ok());  // the discriminator's tensors are not counted as the generator's
  // A file without the discriminator says which tensor is missing.
  ModelFile only_g;
  store_network(g, only_g);
  const smlm::Status s = restore_network(back, only_g, false, "disc.");
  REQUIRE(!s.ok());
  CHECK(s.message().find("disc.param.0") != std::string::npos);
}
