// reconstruct.hpp: tiling with overlap gives the output of one whole-frame pass wherever the
// network's receptive field stays inside the tile; odd sizes; offset and gain do not matter.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/deep/reconstruct.hpp>
#include <smlm/nn/unet.hpp>

using namespace smlm;

namespace {
// A small network: its receptive radius is more than 6 camera pixels (a margin of 6 was seen to
// change the output) and at most 8.
constexpr nn::UNetConfig tiny{.depth = 1, .widths = {4, 6}, .skips = true, .resolution = nn::Resolution::shuffle_head};
using Tiny = nn::UNet<tiny>;

Image<float> random_frame(std::ptrdiff_t h, std::ptrdiff_t w, std::uint64_t seed) {
  Image<float> f(h, w);
  Philox4x32 rng(seed, 0, rng_purpose::user);
  for (std::ptrdiff_t i = 0; i < f.size(); ++i) f.data()[i] = static_cast<float>(poisson(rng, 20.0));
  return f;
}

Image<float> run_once(Tiny& net, const Image<float>& frame, deep::ReconstructOptions o, nn::WorkerPool* pool = nullptr) {
  deep::Reconstructor<Tiny> rec(net, {0.995, 0.1, 0.8}, 2, o, pool);
  Image<float> out(frame.rows() * 2, frame.cols() * 2);
  const ConstImageView<float> in[1] = {const_view(frame)};
  const ImageView<float> maps[1] = {make_view(out)};
  rec.run(in, maps);
  return out;
}
}  // namespace

TEST_CASE("Reconstructor: tiles with overlap reproduce the whole-frame output; odd sizes") {
  Tiny net(2);
  net.init(4);
  const Image<float> frame = random_frame(37, 45, 1);
  deep::ReconstructOptions whole;
  whole.tile_px = 1024;
  deep::ReconstructOptions tiled;
  tiled.tile_px = 32;
  tiled.overlap_px = 8;
  tiled.batch_tiles = 3;
  const Image<float> a = run_once(net, frame, whole), b = run_once(net, frame, tiled);
  REQUIRE(a.rows() == 74);
  REQUIRE(a.cols() == 90);
  CHECK(a.allFinite());
  // Both plans pad to 38 × 46 (2 × 2 tiles of 32); every output pixel comes from ≥ 8 pixels inside
  // its tile, no less than the network's receptive radius, so the maps agree up to the GEMM's
  // rounding, which depends on where a tile's columns fall.
  CHECK((a - b).abs().maxCoeff() < 1e-4 * (1 + a.abs().maxCoeff()));
  // Two threads give the same maps.
  nn::WorkerPool pool(2);
  const Image<float> c = run_once(net, frame, tiled, &pool);
  CHECK((c == b).all());
}

TEST_CASE("Reconstructor: a camera offset and gain leave the output unchanged") {
  Tiny net(2);
  net.init(5);
  const Image<float> frame = random_frame(32, 32, 2);
  const Image<float> adu = frame * 2.06f + 103.0f;
  const Image<float> a = run_once(net, frame, {}), b = run_once(net, adu, {});
  CHECK((a - b).abs().maxCoeff() < 1e-3 * a.abs().maxCoeff());
}

TEST_CASE("Reconstructor: batches of several frames equal frame-by-frame runs") {
  Tiny net(2);
  net.init(6);
  deep::Reconstructor<Tiny> rec(net, {}, 2, {.tile_px = 16, .overlap_px = 4, .batch_tiles = 5});
  std::vector<Image<float>> frames{random_frame(20, 24, 3), random_frame(20, 24, 4), random_frame(20, 24, 5)};
  std::vector<Image<float>> outs(3, Image<float>(40, 48));
  std::vector<ConstImageView<float>> in;
  std::vector<ImageView<float>> maps;
  for (int i = 0; i < 3; ++i) in.push_back(const_view(frames[static_cast<std::size_t>(i)])), maps.push_back(make_view(outs[static_cast<std::size_t>(i)]));
  rec.run(in, maps);
  for (int i = 0; i < 3; ++i) {
    Image<float> single(40, 48);
    const ConstImageView<float> one[1] = {const_view(frames[static_cast<std::size_t>(i)])};
    const ImageView<float> m1[1] = {make_view(single)};
    rec.run(one, m1);
    CHECK((single - outs[static_cast<std::size_t>(i)]).abs().maxCoeff() < 1e-5 * (1 + single.abs().maxCoeff()));
  }
}
