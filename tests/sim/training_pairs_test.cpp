// training_pairs.hpp: determinism over threads, order and scratch; emitter counts against the
// Poisson mean of every scene kind; emitters inside the patch; bundle strands closer than the PSF;
// the mean of an empty patch against the camera's declared mean; augmentation as an image
// transform; the codec path; the scene mixture; rejected conditions. Statistical checks allow 4
// standard errors (fixed seeds, printed).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <thread>
#include <vector>

#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/fast_emccd.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/sim/codec_stage.hpp>
#include <smlm/sim/training_pairs.hpp>

namespace sim = smlm::sim;
namespace camera = smlm::camera;
namespace codec = smlm::codec;
using smlm::ConstImageView;
using smlm::Image;
using smlm::ImageView;

namespace {

/// A noise-free camera in double: records the expected photons as they are (a user model, and the
/// double path of the generator).
struct Noiseless {
  using scalar = double;
  template <smlm::bit_engine Rng>
  void record(ConstImageView<double> photons, Rng&, ImageView<double> adu) const noexcept {
    adu = photons;
  }
  double mean_adu(double photons, camera::Pixel = {}) const noexcept { return photons; }
  double variance_adu(double, camera::Pixel = {}) const noexcept { return 0; }
  void to_photons(ConstImageView<double> adu, ImageView<double> photons) const noexcept { photons = adu; }
  double max_adu() const noexcept { return 1e300; }
};
static_assert(camera::Model<Noiseless>);

sim::TrainingConditions only(sim::SceneKind kind, sim::TrainingConditions c = {}) {
  c.scene_weights = {0, 0, 0, 0};
  c.scene_weights[static_cast<std::size_t>(kind)] = 1;
  return c;
}

bool same(const sim::TrainingPatch& a, const sim::TrainingPatch& b) {
  if (a.frame.rows() != b.frame.rows() || a.frame.cols() != b.frame.cols() || !(a.frame == b.frame).all()) return false;
  if (a.emitters.size() != b.emitters.size()) return false;
  for (std::size_t i = 0; i < a.emitters.size(); ++i) {
    const auto &p = a.emitters[i], &q = b.emitters[i];
    if (p.x_px != q.x_px || p.y_px != q.y_px || p.photons != q.photons || p.id != q.id) return false;
  }
  return a.sigma_px == b.sigma_px && a.background_photons == b.background_photons && a.quality == b.quality &&
         a.scene == b.scene && a.transform == b.transform && a.density_per_um2 == b.density_per_um2;
}

bool all_inside(const sim::TrainingPatch& p, std::ptrdiff_t n) {
  for (const auto& e : p.emitters)
    if (!(e.x_px >= 0 && e.x_px < static_cast<double>(n) && e.y_px >= 0 && e.y_px < static_cast<double>(n))) return false;
  return true;
}

struct Moments {
  double n = 0, sum = 0, sum2 = 0;
  void add(double v) {
    n += 1;
    sum += v;
    sum2 += v * v;
  }
  double mean() const { return sum / n; }
  double variance() const { return (sum2 - sum * sum / n) / (n - 1); }
  double standard_error() const { return std::sqrt(variance() / n); }
};

}  // namespace

TEST_CASE("training pairs: a patch is a function of (seed, index) alone: threads, order, scratch") {
  const std::uint64_t seed = 2024;
  CAPTURE(seed);
  sim::TrainingConditions c;
  c.sigma_nm = {90, 150};
  c.density_per_um2 = {1, 8};
  c.background_photons = {5, 50};
  c.quality = {30, 90};
  using Gen = sim::TrainingPairGenerator<camera::FastEmccd<float>>;
  const Gen a(c, {}, seed), b(c, {}, seed), other_seed(c, {}, seed + 1);
  REQUIRE(a.validate().ok());
  const std::vector<std::uint64_t> indices = {0, 1, 2, 3, 17, 4096, (std::uint64_t{1} << 32) + 3, ~std::uint64_t{0}};

  std::vector<sim::TrainingPatch> first(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) a.generate(indices[i], first[i]);
  // Reverse order, another generator, another patch object (storage reused from a different size).
  sim::TrainingPatch reused;
  reused.frame.resize(5, 7);
  for (std::size_t i = indices.size(); i-- > 0;) {
    b.generate(indices[i], reused);
    CHECK(same(reused, first[i]));
  }
  // Another thread (its own thread_local scratch, codec stages created afresh).
  std::vector<sim::TrainingPatch> threaded(indices.size());
  std::thread worker([&] {
    for (std::size_t i = 0; i < indices.size(); ++i) a.generate(indices[i], threaded[i]);
  });
  worker.join();
  // A caller's scratch.
  Gen::Scratch scratch;
  std::array<int, 4> kinds{};
  for (std::size_t i = 0; i < indices.size(); ++i) {
    CAPTURE(indices[i]);
    CHECK(same(threaded[i], first[i]));
    sim::TrainingPatch p;
    a.generate(indices[i], p, scratch);
    CHECK(same(p, first[i]));
    ++kinds[static_cast<std::size_t>(p.scene)];
    // Different index, different seed: different patch.
    if (i > 0) CHECK_FALSE((first[i].frame == first[i - 1].frame).all());
    sim::TrainingPatch q;
    other_seed.generate(indices[i], q);
    CHECK_FALSE((q.frame == first[i].frame).all());
  }
  MESSAGE("scene kinds among the indices: " << kinds[0] << " " << kinds[1] << " " << kinds[2] << " " << kinds[3]);
}

TEST_CASE("training pairs: emitter counts match density x area for every scene kind") {
  const std::uint64_t seed = 77;
  CAPTURE(seed);
  sim::TrainingConditions c;
  c.density_per_um2 = {6, 6};
  const double expected = 6 * std::pow(static_cast<double>(c.patch_px) * c.pixel_nm * 1e-3, 2);  // 61.44
  for (const auto kind : {sim::SceneKind::uniform, sim::SceneKind::filaments, sim::SceneKind::bundles, sim::SceneKind::clusters}) {
    CAPTURE(sim::to_string(kind));
    const sim::TrainingPairGenerator<camera::Ideal<float>> gen(only(kind, c), {}, seed);
    sim::TrainingPatch p;
    Moments count;
    const int patches = kind == sim::SceneKind::uniform ? 1500 : 1000;
    for (int i = 0; i < patches; ++i) {
      gen.generate(static_cast<std::uint64_t>(i), p);
      REQUIRE(p.scene == kind);
      REQUIRE(all_inside(p, c.patch_px));
      count.add(static_cast<double>(p.emitters.size()));
    }
    MESSAGE(sim::to_string(kind) << ": mean " << count.mean() << " (expected " << expected << "), variance "
                                 << count.variance() << ", se " << count.standard_error());
    // The mean within 4 standard errors of the sample (Poisson: sqrt(61.44 / 1500) = 0.20 for
    // uniform scenes; structured scenes are overdispersed and their own spread is used).
    if (kind == sim::SceneKind::uniform) {
      CHECK(std::abs(count.mean() - expected) < 4 * std::sqrt(expected / patches));
      // Poisson: variance = mean; the sample variance's sd is about mean·sqrt(2/N) = 2.2.
      CHECK(std::abs(count.variance() - expected) < 4 * expected * std::sqrt(2.0 / patches));
    } else {
      CHECK(std::abs(count.mean() - expected) < 4 * count.standard_error());
      // Structured scenes put their emitters on fewer, denser structures: overdispersed counts.
      CHECK(count.variance() > expected);
    }
  }
}

TEST_CASE("training pairs: every listed emitter is inside the patch; margin emitters light its edges") {
  sim::TrainingConditions c;
  c.patch_px = 20;
  c.density_per_um2 = {2, 10};
  c.sigma_nm = {80, 200};
  c.photons = {1000, 1000};
  c.background_photons = {0, 0};
  const sim::TrainingPairGenerator<Noiseless> gen(c, {}, 5);
  sim::TrainingPatch p;
  double light = 0, listed = 0;
  for (std::uint64_t i = 0; i < 400; ++i) {
    gen.generate(i, p);
    REQUIRE(all_inside(p, c.patch_px));
    for (const auto& e : p.emitters) REQUIRE(e.photons == 1000);
    light += p.frame.cast<double>().sum();
    listed += 1000.0 * static_cast<double>(p.emitters.size());
  }
  // Light leaves the patch from emitters inside it and enters from those in the margin; with
  // stationary scenes the two balance, so the light in the frame matches the listed photons.
  MESSAGE("light in frames / photons of listed emitters = " << light / listed);
  CHECK(light / listed == doctest::Approx(1).epsilon(0.03));
}

TEST_CASE("training pairs: bundle strands lie within the PSF width; filaments, clusters, uniform have one strand") {
  // A high cap and a low mean density: few structures, densely labelled (at the default cap of
  // 15 per µm² a strand carries only about 2 emitters per µm, and a frame shows few close pairs).
  sim::TrainingConditions c;
  c.density_per_um2 = {3, 3};
  c.max_local_density_per_um2 = 100;
  // The PSF's full width at half maximum, 2.59 px: neighbouring strands are 30–200 nm apart.
  const double sigma_px = c.sigma_nm.lo / c.pixel_nm;
  const double fwhm_px = 2 * std::sqrt(2 * std::log(2.0)) * sigma_px;
  // For every structure with at least 8 emitters in the patch: does another structure (filaments)
  // or another strand of it (bundles) have an emitter closer than the FWHM to one of its emitters?
  struct Tally {
    int structures = 0, with_close = 0, within_sigma = 0;
    std::array<int, 4> strands{};
  };
  auto tally = [&](sim::SceneKind kind) {
    const sim::TrainingPairGenerator<camera::Ideal<float>> gen(only(kind, c), {}, 9);
    sim::TrainingPatch p;
    Tally t;
    for (std::uint64_t i = 0; i < 200; ++i) {
      gen.generate(i, p);
      std::map<std::int64_t, int> sizes;
      for (const auto& e : p.emitters) {
        REQUIRE(e.id >= 1);
        ++sizes[(e.id - 1) / 4];
        ++t.strands[static_cast<std::size_t>((e.id - 1) % 4)];
      }
      for (const auto& [structure, size] : sizes) {
        if (size < 8) continue;
        bool close = false, very_close = false;
        for (const auto& a : p.emitters) {
          if ((a.id - 1) / 4 != structure) continue;
          for (const auto& b : p.emitters) {
            const bool other = kind == sim::SceneKind::bundles
                                   ? (b.id - 1) / 4 == structure && (b.id - 1) % 4 != (a.id - 1) % 4
                                   : (b.id - 1) / 4 != structure;
            if (!other) continue;
            const double d = std::hypot(a.x_px - b.x_px, a.y_px - b.y_px);
            close |= d < fwhm_px;
            very_close |= d < sigma_px;
          }
        }
        ++t.structures;
        t.with_close += close ? 1 : 0;
        t.within_sigma += very_close ? 1 : 0;
      }
    }
    return t;
  };
  const Tally bundles = tally(sim::SceneKind::bundles), filaments = tally(sim::SceneKind::filaments);
  MESSAGE("bundles with two strands' emitters closer than the FWHM: " << bundles.with_close << " / " << bundles.structures
                                                                   << "; filaments with another chain's emitter that close: "
                                                                   << filaments.with_close << " / " << filaments.structures);
  MESSAGE("bundle labels on strands 0..3: " << bundles.strands[0] << " " << bundles.strands[1] << " "
                                            << bundles.strands[2] << " " << bundles.strands[3]);
  REQUIRE(bundles.structures > 100);
  CHECK(bundles.with_close >= 0.9 * bundles.structures);
  // Closer than sigma itself wherever two neighbouring strands are less than ~110 nm apart: about
  // half of the two-strand bundles, more of the wider ones.
  MESSAGE("bundles with two strands' emitters closer than sigma: " << bundles.within_sigma);
  CHECK(bundles.within_sigma >= 0.5 * bundles.structures);
  // Chains only come that close where they cross: far less often than strands of one bundle.
  CHECK(filaments.with_close < 0.2 * filaments.structures);
  // Strands 0 and 1 exist in every bundle, 2 in two thirds, 3 in one third.
  CHECK(bundles.strands[3] > 0);
  CHECK(bundles.strands[3] < bundles.strands[2]);
  CHECK(bundles.strands[2] < bundles.strands[1]);
  CHECK(filaments.strands[1] + filaments.strands[2] + filaments.strands[3] == 0);
  for (const auto kind : {sim::SceneKind::clusters, sim::SceneKind::uniform}) {
    const sim::TrainingPairGenerator<camera::Ideal<float>> gen(only(kind, c), {}, 9);
    sim::TrainingPatch p;
    for (std::uint64_t i = 0; i < 50; ++i) {
      gen.generate(i, p);
      for (const auto& e : p.emitters) REQUIRE((e.id - 1) % 4 == 0);
    }
  }
}

TEST_CASE_TEMPLATE("training pairs: an emitter-free patch has the camera's declared mean", Camera, camera::Emccd<float>,
                   camera::FastEmccd<float>, camera::Ideal<double>) {
  sim::TrainingConditions c;
  c.density_per_um2 = {0, 0};
  c.background_photons = {20, 20};
  const Camera cam{};
  const sim::TrainingPairGenerator<Camera> gen(c, cam, 123);
  sim::TrainingPatch p;
  Moments pixels;
  const int patches = 200;
  for (int i = 0; i < patches; ++i) {
    gen.generate(static_cast<std::uint64_t>(i), p);
    REQUIRE(p.emitters.empty());
    for (Eigen::Index k = 0; k < p.frame.size(); ++k) pixels.add(p.frame.data()[k]);
  }
  const double mean = cam.mean_adu(20.0), variance = cam.variance_adu(20.0);
  const double se = std::sqrt(variance / pixels.n);
  MESSAGE("mean " << pixels.mean() << " declared " << mean << " (se " << se << "); variance " << pixels.variance()
                  << " declared " << variance);
  CHECK(std::abs(pixels.mean() - mean) < 4 * se);
  // Pixel variance: the sd of a sample variance is below variance·sqrt(2/n)·2 for these cameras.
  CHECK(pixels.variance() == doctest::Approx(variance).epsilon(4 * 2 * std::sqrt(2 / pixels.n)));
}

TEST_CASE("training pairs: photon_spread gives each patch one brightness level, log-uniform over the range") {
  sim::TrainingConditions c;
  c.patch_px = 24;
  c.density_per_um2 = {8, 8};
  c.photons = {50, 1600};  // 32-fold: five doublings
  c.background_photons = {5, 5};
  c.photon_spread = 1.5;
  const sim::TrainingPairGenerator<Noiseless> spread(c, {}, 5);
  auto independent_conditions = c;
  independent_conditions.photon_spread = 0;
  const sim::TrainingPairGenerator<Noiseless> independent(independent_conditions, {}, 5);
  sim::TrainingPatch p, q;
  int patches = 0, dim_patches = 0, independent_dim = 0;
  std::array<int, 5> per_doubling{};
  for (std::uint64_t i = 0; i < 400; ++i) {
    CAPTURE(i);
    spread.generate(i, p);
    independent.generate(i, q);
    // The scene is not touched by the photon draw: same emitters, same places.
    REQUIRE(p.emitters.size() == q.emitters.size());
    for (std::size_t k = 0; k < p.emitters.size(); ++k) REQUIRE(p.emitters[k].x_px == q.emitters[k].x_px);
    if (p.emitters.size() < 2) continue;
    double lo = 1e300, hi = 0, log_sum = 0;
    for (const auto& e : p.emitters) {
      REQUIRE(e.photons >= c.photons.lo);
      REQUIRE(e.photons <= c.photons.hi);
      lo = std::min(lo, e.photons), hi = std::max(hi, e.photons), log_sum += std::log(e.photons);
    }
    // Every emitter within ×1.5 of the level: at most 1.5² apart.
    CHECK(hi / lo <= 1.5 * 1.5 * (1 + 1e-12));
    ++patches;
    const double geometric_mean = std::exp(log_sum / double(p.emitters.size()));
    ++per_doubling[static_cast<std::size_t>(std::clamp(std::log2(geometric_mean / 50), 0.0, 4.999))];
    if (hi < 150) ++dim_patches;
    double independent_hi = 0;
    for (const auto& e : q.emitters) independent_hi = std::max(independent_hi, e.photons);
    if (independent_hi < 150) ++independent_dim;
  }
  MESSAGE("patches with >= 2 emitters: " << patches << ", all below 150 photons: " << dim_patches
                                         << " (independent draws: " << independent_dim << ")");
  // Log-uniform levels: each doubling of the range holds about a fifth of the patches (binomial
  // sd ≈ 0.02·patches; 5 sd allowed; the levels of the edge doublings are clipped a little).
  for (int k : per_doubling) CHECK(std::abs(double(k) / patches - 0.2) < 0.1);
  CHECK(dim_patches > patches / 10);
  CHECK(independent_dim == 0);
}

TEST_CASE("training pairs: augmentation renders the flipped/rotated scene and keeps the emitters inside") {
  sim::TrainingConditions c;
  c.patch_px = 24;
  c.density_per_um2 = {3, 9};
  c.sigma_nm = {90, 140};
  c.photons = {500, 3000};
  c.background_photons = {10, 10};
  auto plain_conditions = c;
  plain_conditions.augment = false;
  const sim::TrainingPairGenerator<Noiseless> augmented(c, {}, 31), plain(plain_conditions, {}, 31);
  sim::TrainingPatch a, p;
  const std::ptrdiff_t n = c.patch_px;
  std::array<int, 8> transforms{};
  for (std::uint64_t i = 0; i < 80; ++i) {
    CAPTURE(i);
    augmented.generate(i, a);
    plain.generate(i, p);
    REQUIRE(p.transform == 0);
    ++transforms[static_cast<std::size_t>(a.transform)];
    const int t = a.transform;
    REQUIRE(a.emitters.size() == p.emitters.size());
    REQUIRE(all_inside(a, n));
    auto forward = [&](double x, double y) {
      if (t & 4) std::swap(x, y);
      if (t & 1) x = static_cast<double>(n) - x;
      if (t & 2) y = static_cast<double>(n) - y;
      return std::pair{x, y};
    };
    for (std::size_t k = 0; k < p.emitters.size(); ++k) {
      const auto [x, y] = forward(p.emitters[k].x_px, p.emitters[k].y_px);
      CHECK(a.emitters[k].x_px == doctest::Approx(x).epsilon(1e-12));
      CHECK(a.emitters[k].y_px == doctest::Approx(y).epsilon(1e-12));
      CHECK(a.emitters[k].photons == p.emitters[k].photons);
    }
    // Pixel (row, col) of the plain frame lands on the transformed pixel of the augmented one.
    const float peak = p.frame.maxCoeff();
    float worst = 0;
    for (std::ptrdiff_t row = 0; row < n; ++row)
      for (std::ptrdiff_t col = 0; col < n; ++col) {
        std::ptrdiff_t x = col, y = row;
        if (t & 4) std::swap(x, y);
        if (t & 1) x = n - 1 - x;
        if (t & 2) y = n - 1 - y;
        worst = std::max(worst, std::abs(a.frame(y, x) - p.frame(row, col)));
      }
    CHECK(worst <= 1e-4f * peak);
  }
  for (int t = 0; t < 8; ++t) CHECK(transforms[static_cast<std::size_t>(t)] > 0);
}

TEST_CASE("training pairs: the codec path gives 8-bit levels, the stage's reconstruction of the video frame") {
  sim::TrainingConditions c;
  c.background_photons = {15, 40};
  c.sigma_nm = {100, 130};
  auto coded_conditions = c;
  coded_conditions.quality = {30, 30};
  const camera::Emccd<float> cam{};
  const sim::TrainingPairGenerator<camera::Emccd<float>> plain(c, cam, 8), coded(coded_conditions, cam, 8);
  sim::TrainingPatch raw, q;
  for (std::uint64_t i = 0; i < 20; ++i) {
    CAPTURE(i);
    plain.generate(i, raw);
    coded.generate(i, q);
    CHECK(raw.quality == -1);
    CHECK(q.quality == 30);
    REQUIRE(q.emitters.size() == raw.emitters.size());
    CHECK((q.frame == q.frame.floor()).all());
    CHECK(q.frame.minCoeff() >= 0);
    CHECK(q.frame.maxCoeff() <= 255);
    // The same patch by hand: video conversion of the camera frame, intra-coded at quality 30.
    const auto conversion = sim::video_conversion_for(cam, raw.background_photons, c.photons.hi, raw.sigma_px);
    Image<float> video(raw.frame.rows(), raw.frame.cols());
    for (Eigen::Index k = 0; k < video.size(); ++k) video.data()[k] = conversion.to_video(raw.frame.data()[k]);
    codec::Settings settings;
    settings.quality = 30;
    settings.gop = 1;
    settings.intra_only = true;
    auto stage = sim::CodecStage::create(settings, 32, 32, 1, conversion);
    REQUIRE(stage);
    Image<float> by_hand = raw.frame;
    (*stage)(0, smlm::make_view(by_hand));
    CHECK((q.frame == by_hand).all());
    CHECK((q.frame != video).any());  // the codec changed it
    CHECK((q.frame != raw.frame).any());
  }

  SUBCASE("drawn qualities are integers spanning the range; a phone's video passes unconverted") {
    auto range = c;
    range.quality = {19.5, 22.7};  // integers 20, 21, 22
    const sim::TrainingPairGenerator<camera::CmosPhone<float>> phone(range, {}, 3);
    std::array<int, 3> seen{};
    for (std::uint64_t i = 0; i < 150; ++i) {
      phone.generate(i, q);
      REQUIRE(q.quality == std::floor(q.quality));
      REQUIRE(q.quality >= 20);
      REQUIRE(q.quality <= 22);
      ++seen[static_cast<std::size_t>(q.quality - 20)];
      CHECK((q.frame == q.frame.floor()).all());
      CHECK(q.frame.minCoeff() >= 0);
      CHECK(q.frame.maxCoeff() <= 255);
    }
    for (const int s : seen) CHECK(s > 20);
  }
}

TEST_CASE("training pairs: coded sequences — P-frames after 1..g-1 earlier frames, random grid offsets, same truth") {
  sim::TrainingConditions c;
  c.background_photons = {15, 40};
  c.quality = {30, 30};
  auto seq = c;
  seq.codec_gop_frames = 4;
  const camera::Emccd<float> cam{};
  const sim::TrainingPairGenerator<camera::Emccd<float>> intra(c, cam, 8), frames(seq, cam, 8);
  sim::TrainingPatch a, b, again;
  std::array<int, 5> seen{};
  int differ = 0, p_frames = 0;
  for (std::uint64_t i = 0; i < 60; ++i) {
    CAPTURE(i);
    intra.generate(i, a);
    frames.generate(i, b);
    REQUIRE(b.codec_frames >= 1);
    REQUIRE(b.codec_frames <= 4);
    ++seen[static_cast<std::size_t>(b.codec_frames)];
    CHECK(a.codec_frames == 1);
    CHECK(b.grid_dx == 0);  // no offset unless asked
    // The truth and the conditions are those of the intra path.
    CHECK(b.emitters.size() == a.emitters.size());
    CHECK(b.sigma_px == a.sigma_px);
    CHECK(b.quality == a.quality);
    CHECK((b.frame == b.frame.floor()).all());
    if (b.codec_frames == 1) {
      CHECK((b.frame == a.frame).all());  // one I-frame: the intra path's patch exactly
    } else {
      ++p_frames;
      differ += (b.frame != a.frame).any();  // a P-frame predicted from the earlier frames
    }
    frames.generate(i, again);
    CHECK((again.frame == b.frame).all());  // still a function of (seed, index)
  }
  for (int g = 1; g <= 4; ++g) CHECK(seen[static_cast<std::size_t>(g)] > 5);
  CHECK(differ == p_frames);

  SUBCASE("the block grid moves against the patch: its 4 × 4 block edges follow the reported offset") {
    // At quality 10 the 4 × 4 transform blocks are visible as steps between neighbouring pixels.
    // Mean |step| across columns x | x + 1 where x + 1 is a block edge, over the mean at the other
    // columns: measured in the patch's own grid phase it stays high; in the fixed patch phase the
    // random offsets smear it out.
    auto off = c;
    off.quality = {10, 10};
    off.codec_grid_offset = true;
    auto aligned = off;
    aligned.codec_grid_offset = false;
    const sim::TrainingPairGenerator<camera::Emccd<float>> shifted(off, cam, 9), fixed(aligned, cam, 9);
    const auto edge_ratio = [](const sim::TrainingPairGenerator<camera::Emccd<float>>& g, bool own_phase) {
      double edge = 0, inner = 0;
      std::int64_t ne = 0, ni = 0;
      std::array<int, 16> dxs{};
      sim::TrainingPatch p;
      for (std::uint64_t i = 0; i < 200; ++i) {
        g.generate(i, p);
        ++dxs[static_cast<std::size_t>(p.grid_dx)];
        for (Eigen::Index r = 0; r < p.frame.rows(); ++r)
          for (Eigen::Index x = 0; x + 1 < p.frame.cols(); ++x) {
            const double step = std::abs(double(p.frame(r, x + 1)) - double(p.frame(r, x)));
            const bool is_edge = (x + 1 + (own_phase ? p.grid_dx : 0)) % 4 == 0;
            (is_edge ? edge : inner) += step;
            ++(is_edge ? ne : ni);
          }
      }
      return std::pair{(edge / double(ne)) / (inner / double(ni)), dxs};
    };
    const auto [aligned_ratio, aligned_dx] = edge_ratio(fixed, true);
    const auto [own, offsets] = edge_ratio(shifted, true);
    const auto [smeared, unused] = edge_ratio(shifted, false);
    MESSAGE("block-edge step ratio: aligned ", aligned_ratio, ", offset grid in its phase ", own, ", in the patch's ", smeared);
    CHECK(aligned_dx[0] == 200);
    int phases = 0;
    for (const int k : offsets) phases += k > 0;
    CHECK(phases == 16);    // every offset drawn
    CHECK(aligned_ratio > 1.2);
    CHECK(own > 1.2);
    CHECK(smeared < 1.1);
    CHECK(smeared < own);
  }
}

TEST_CASE("training pairs: scene kinds follow scene_weights") {
  sim::TrainingConditions c;
  c.patch_px = 8;
  c.scene_weights = {1, 0, 3, 0};
  const sim::TrainingPairGenerator<camera::Ideal<float>> gen(c, {}, 11);
  sim::TrainingPatch p;
  std::array<int, 4> counts{};
  const int patches = 2000;
  for (int i = 0; i < patches; ++i) {
    gen.generate(static_cast<std::uint64_t>(i), p);
    ++counts[static_cast<std::size_t>(p.scene)];
  }
  CHECK(counts[1] == 0);
  CHECK(counts[3] == 0);
  const double fraction = counts[2] / static_cast<double>(patches);
  CHECK(std::abs(fraction - 0.75) < 4 * std::sqrt(0.75 * 0.25 / patches));
}

TEST_CASE("training pairs: validate() names the bad field and its value") {
  auto message = [](auto change) {
    sim::TrainingConditions c;
    change(c);
    const smlm::Status s = c.validate();
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() != smlm::errc::ok);
    return s.message();
  };
  CHECK(sim::TrainingConditions{}.validate().ok());
  CHECK(message([](auto& c) { c.patch_px = 0; }).find("patch_px = 0") != std::string::npos);
  CHECK(message([](auto& c) { c.sigma_nm = {120, 110}; }).find("sigma_nm = [120, 110]") != std::string::npos);
  CHECK(message([](auto& c) { c.sigma_nm = {0, 110}; }).find("sigma_nm = [0, 110]") != std::string::npos);
  CHECK(message([](auto& c) { c.photons = {-5, 10}; }).find("photons = [-5, 10]") != std::string::npos);
  CHECK(message([](auto& c) { c.photon_spread = 0.5; }).find("photon_spread = 0.5") != std::string::npos);
  CHECK(message([](auto& c) { c.photon_spread = std::numeric_limits<double>::infinity(); }).find("photon_spread = inf") !=
        std::string::npos);
  CHECK(message([](auto& c) { c.background_photons = {-1, 0}; }).find("background_photons = [-1, 0]") != std::string::npos);
  CHECK(message([](auto& c) { c.density_per_um2 = {2, 1}; }).find("density_per_um2 = [2, 1]") != std::string::npos);
  CHECK(message([](auto& c) { c.quality = {50, 101}; }).find("quality = [50, 101]") != std::string::npos);
  CHECK(message([](auto& c) { c.quality = {-1, 50}; }).find("quality = [-1, 50]") != std::string::npos);
  CHECK(message([](auto& c) { c.quality = {20.2, 20.8}; }).find("quality = [20.2, 20.8]") != std::string::npos);
  CHECK(message([](auto& c) { c.scene_weights = {0, 0, 0, 0}; }).find("scene_weights = {0, 0, 0, 0}") != std::string::npos);
  CHECK(message([](auto& c) { c.scene_weights = {1, -1, 0, 0}; }).find("scene_weights[1] (filaments) = -1") !=
        std::string::npos);
  CHECK(message([](auto& c) { c.pixel_nm = 0; }).find("pixel_nm = 0") != std::string::npos);
  CHECK(message([](auto& c) { c.max_local_density_per_um2 = -3; }).find("max_local_density_per_um2 = -3") !=
        std::string::npos);
  CHECK(message([](auto& c) { c.persistence_nm = 0; }).find("persistence_nm = 0") != std::string::npos);
  CHECK(message([](auto& c) { c.label_sd_nm = -2; }).find("label_sd_nm = -2") != std::string::npos);
  CHECK(message([](auto& c) { c.bundle_separation_nm = {0, 10}; }).find("bundle_separation_nm = [0, 10]") !=
        std::string::npos);
  CHECK(message([](auto& c) { c.cluster_radius_nm = {50, 20}; }).find("cluster_radius_nm = [50, 20]") !=
        std::string::npos);
  CHECK(message([](auto& c) { c.density_per_um2 = {1, 1e9}; }).find("density_per_um2.hi = 1e+09") != std::string::npos);

  // The generator adds the camera's sensor size, and generate() refuses invalid conditions.
  Image<float> offset = Image<float>::Constant(16, 16, 100), gain = Image<float>::Constant(16, 16, 0.5f),
               variance = Image<float>::Constant(16, 16, 4);
  const camera::Scmos<float> scmos(offset, gain, variance);
  sim::TrainingConditions c;
  const sim::TrainingPairGenerator<camera::Scmos<float>> mismatched(c, scmos, 1);
  CHECK(mismatched.validate().message().find("16x16") != std::string::npos);
  sim::TrainingPatch p;
  CHECK_THROWS(mismatched.generate(0, p));
  c.patch_px = 16;
  const sim::TrainingPairGenerator<camera::Scmos<float>> matched(c, scmos, 1);
  CHECK(matched.validate().ok());
  matched.generate(0, p);
  CHECK(p.frame.rows() == 16);
}
