// Training pairs for deep-learning localization (Deep-STORM: Nehme et al., Optica 5 (2018) 458;
// cellSTORM: Diederich et al., PLoS ONE 14 (2019) e0209827): simulated camera patches whose
// emitters are known exactly, drawn from a mixture of scenes and imaging conditions.
//
// Patch number `index` is a pure function of (conditions, camera, seed, index). Its recipe:
//  1. Conditions, drawn once per patch from the ValueRanges of TrainingConditions: the scene kind
//     (by scene_weights), the PSF sd σ (sigma_nm), the background (photons per pixel), the mean
//     density ρ (emitters per µm² of the patch), the codec quality (an integer, when quality.lo
//     ≥ 0) and one of the 8 flips/rotations (with augment).
//  2. Scene, in nanometres over the extended field: the patch (patch_px · pixel_nm square) plus a
//     margin of 4σ on every side (the support of psf::IntegratedGaussian, so every emitter whose
//     light can reach the patch is placed and the patch's edge pixels see the same density as its
//     centre). The number of emitters placed has mean ρ · extended area in every scene kind:
//       uniform    i.i.d. uniform positions (sim::uniform).
//       filaments  2D worm-like chains (persistence_nm; sim::filaments' tangent model, traced
//                  as a polyline of 100 nm steps) that enter the field's circumcircle along isotropic uniform
//                  random lines (direction uniform, distance from the centre uniform within the
//                  radius) and end where they leave it. Uniform positions with uniform directions
//                  are stationary for a chain's motion (it moves along its tangent, the tangent
//                  diffuses), and IUR lines bring exactly that state's inflow across the circle
//                  (the first step being the uniform remainder of a step that crossed it), so
//                  the chains cover the field uniformly. Labels lie along the part of each
//                  chain inside the extended field, displaced perpendicular to it by
//                  N(0, label_sd_nm²).
//       bundles    as filaments, each chain carrying 2–4 parallel strands whose neighbours are
//                  bundle_separation_nm apart (drawn per pair, centred on the chain); a label picks
//                  its strand uniformly.
//       clusters   Gaussian blobs: centre uniform in the extended field, isotropic sd drawn from
//                  cluster_radius_nm, Poisson(m) labels.
//     Structured scenes are as dense as max_local_density_per_um2 allows, where the local density
//     of a structure is its density blurred by the PSF (the emitters per µm² a localization method
//     sees at the PSF's scale): a chain's labels per nm λ are set so that the blurred profile
//     across it, (λ/k)·Σ_strands N(x; offset, label_sd² + σ²), peaks at the cap; a cluster of sd r
//     gets m = cap · 2π(r² + σ²) expected labels (its blurred peak is then the cap). The count is
//     kept at ρ · area on average without letting the scene's geometry decide it: a chain's mean
//     contour inside the extended field is area / (2 · circumradius) whatever its bending (the
//     mean chord of IUR lines, and by the invariance of the mean path length under scattering,
//     Blanco & Fournier, Europhys. Lett. 61 (2003) 168, that of any chain entering this way), so
//     chains are added until Σ λ · that mean reaches ρ · area, B; their labels, a Poisson process
//     at rate λ along them, are then each kept with probability ρ · area / B. (Stopping on the
//     traced contour instead would favour short chains near the border, and cutting the last
//     chain would leave its far end empty: both bias the density away from uniform.) Clusters
//     are added until their m sum to ρ · area, the last m cut to fit (a cluster has no preferred
//     part). The number of emitters is therefore Poisson(ρ · area) for uniform and cluster scenes
//     and has mean ρ · area (and more spread) for chains; the patch mean stays at ρ, and the
//     density along a structure reaches the cap (chains: times ρ · area / B, within one chain's
//     share of 1). Structures may cross or overlap; where ρ exceeds the cap, the mixture is
//     locally denser than the cap.
//     Emitter id − 1 = 4·structure + strand: structure numbers the chains, bundles or clusters of
//     the scene (uniform scenes: each emitter its own), strand the bundle strand (0 otherwise).
//  3. Augmentation: the transform acts on the emitter coordinates before rendering, about the
//     patch centre (x → patch_px − x for a flip, x ↔ y for the transpose). For this PSF, which is
//     symmetric under the 8 transforms of the pixel grid, that renders exactly the transformed
//     image of the untransformed scene (before noise; the camera's noise and its fixed pattern
//     stay on the sensor, as they would for a rotated sample).
//  4. Photons per emitter, in emitter order: uniform in [photons.lo, photons.hi] when photon_spread
//     is 0. With photon_spread s ≥ 1 the patch first draws a level L, log-uniform in [lo, hi]
//     (uniform when lo = 0), and each emitter is then uniform in [max(lo, L/s), min(hi, L·s)]: the
//     emitters of one patch are about equally bright, as in one frame of a real acquisition, and
//     every brightness of the range comes as a whole patch. Why it matters: the input
//     normalization (nn/normalization.hpp) scales a frame by its brightest spots, so a frame of dim
//     molecules looks, after it, like noise at full scale. Independent draws over a wide range
//     almost never give a patch of only dim emitters (10 emitters at 50..1,500 photons all below
//     150: about 2e-12), and a network trained on them missed 88 % of the molecules of a
//     100-photon acquisition (docs/cellstorm.md).
//  5. Expected photons = background + Σ psf::IntegratedGaussian{σ/pixel_nm}.add_to over every
//     emitter, margin ones included; the camera records them with camera::record_at, the frame
//     index being index mod 2^32 (a frame-dependent camera such as CmosPhone applies its
//     frame-to-frame gain changes across patches as it would across the frames of a movie).
//  6. Codec (quality.lo ≥ 0): the recorded patch goes through a CodecStage intra-coded at the
//     drawn quality (one frame, GOP 1): counts → 8-bit video by video_conversion_for(camera,
//     this patch's background, photons.hi, this patch's σ in pixels) (the rule of `smlm simulate
//     --quality`: dark level − 3 SD → 0, the brightest possible spot's peak → 255; CmosPhone's
//     video passes as it is), then encoded and replaced by the decoder's reconstruction. The patch
//     is aligned with the codec's 16 × 16 macroblock grid.
//     With codec_gop_frames > 1, codec_grid_offset or codec_deblock (cellSTORM's phone video),
//     the patch is instead the last frame g of a sequence coded I, P, P, … (g uniform in
//     1..codec_gop_frames per patch, drawn after step 1's numbers), on a block grid offset by
//     (grid_dx, grid_dy), each uniform in 0..15 with codec_grid_offset (0 otherwise), with the
//     in-loop deblocking filter when codec_deblock: so P-frame artefacts and block edges at every
//     phase against the emitters are in the training set. Frames 1..g−1 show the same scene, each
//     emitter on independently with probability ½ in each (blinking; part 4 below), rendered and
//     recorded like frame g (camera frame index index − (g − j) for frame j) with camera streams
//     of their own (key ⊕ j·0xC2B2AE3D27D4EB4F); frame g, the patch, shows every emitter and
//     is exactly the recorded frame the intra path codes, so the truth is unchanged.
// TrainingPatch::emitters holds the emitters with 0 ≤ x_px < patch_px and 0 ≤ y_px < patch_px in
// patch pixel coordinates (pixel i spans [i, i + 1)), after the transform; the margin emitters are
// rendered but not listed.
//
// Random streams. Every number comes from Philox4x32 streams addressed by (seed, index, part):
// with i_lo = index mod 2^32, i_hi = index >> 32 and key seed ⊕ i_hi·0x9E3779B97F4A7C15 (the seed
// itself for index < 2^32), part p (0 conditions, 1 scene, 2 photons, 3 camera, 4 sequence) is the stream
// Philox4x32(key, i_lo, rng_purpose::training) from block p·2^28 on (discard_blocks): 2^30 words
// per part. The simulator never uses rng_purpose::training, so patches share no numbers with a
// simulated movie of the same seed; a FastEmccd's per-pixel blocks (3·2^28 + pixel + k·2^32)
// meet no other part's for patches below 2^28 pixels. Uniform scenes seed sim::uniform with the first
// 64-bit word after the conditions of step 1. No number depends on the thread or on which patches
// were generated before.
//
// Allocation and threads. generate(index, out, scratch) allocates only while `out` and `scratch`
// grow to the patch size and the largest emitter count seen (and once per codec quality used with
// a scratch, for its CodecStage); afterwards nothing. generate(index, out) uses one thread_local
// Scratch per camera type and thread, so it is safe to call concurrently for different `out`
// (generators of different patch sizes alternating on one thread re-size that scratch).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numbers>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <smlm/camera/camera.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/emitter.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/core/status.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/psf.hpp>
#include <smlm/sim/codec_stage.hpp>
#include <smlm/sim/structure.hpp>

namespace smlm::sim {

/// A value drawn uniformly in [lo, hi], per patch unless its field says otherwise (lo == hi: constant).
struct ValueRange {
  double lo = 0, hi = 0;
};

enum class SceneKind : std::uint8_t { uniform, filaments, bundles, clusters };
inline constexpr std::size_t scene_kind_count = 4;

constexpr std::string_view to_string(SceneKind kind) noexcept {
  switch (kind) {
    case SceneKind::uniform: return "uniform";
    case SceneKind::filaments: return "filaments";
    case SceneKind::bundles: return "bundles";
    case SceneKind::clusters: return "clusters";
  }
  return "unknown";
}

/// The imaging conditions and scene mixture of a training set (see the header for their use).
struct TrainingConditions {
  double pixel_nm = 100;                  ///< camera pixel in the sample plane, > 0
  ValueRange sigma_nm{110, 110};          ///< PSF (pixel-integrated Gaussian) sd, per patch, 0 < lo ≤ hi
  ValueRange photons{2000, 2500};         ///< photons per emitter, per emitter, 0 ≤ lo ≤ hi
  double photon_spread = 0;               ///< 0: independent emitters; ≥ 1: emitters within ×s of a patch level
  ValueRange background_photons{20, 20};  ///< per pixel per frame, per patch, 0 ≤ lo ≤ hi
  ValueRange density_per_um2{6, 6};       ///< mean emitters per µm² of the patch, per patch, 0 ≤ lo ≤ hi
  ValueRange quality{-1, -1};             ///< codec quality 0..100 (integer), per patch; lo < 0: no codec
  int codec_gop_frames = 1;               ///< coded: the patch is frame g of g coded I, P, …, g uniform in 1..this
  bool codec_grid_offset = false;         ///< coded: the codec's block grid at a random offset against the patch
  bool codec_deblock = false;             ///< coded: the in-loop deblocking filter on
  std::ptrdiff_t patch_px = 32;           ///< square patch, camera pixels, 1..4096
  std::array<double, 4> scene_weights{1, 1, 1, 1};  ///< relative frequency of uniform, filaments, bundles, clusters
  double max_local_density_per_um2 = 15;  ///< cap for structured scenes (PSF-blurred density), > 0
  bool augment = true;                    ///< random flips and 90° rotations
  double persistence_nm = 3000;           ///< persistence length of filament and bundle chains, > 0
  double label_sd_nm = 10;                ///< label displacement across a chain or strand, sd, ≥ 0
  ValueRange bundle_separation_nm{30, 200};  ///< between neighbouring strands of a bundle, per pair, 0 < lo ≤ hi
  ValueRange cluster_radius_nm{50, 200};     ///< sd of a cluster's Gaussian blob, per cluster, 0 < lo ≤ hi

  /// Largest expected emitter count of the extended field (keeps a patch's memory bounded).
  static constexpr double max_expected_emitters = 1e6;

  /// Whether the patches go through the codec.
  constexpr bool coded() const noexcept { return quality.lo >= 0; }
  /// Whether coded patches are the last frame of a coded sequence (see the header, step 6).
  constexpr bool coded_as_sequence() const noexcept {
    return coded() && (codec_gop_frames > 1 || codec_grid_offset || codec_deblock);
  }
  /// The margin around the patch, pixels, for PSF sd `sigma_nm`.
  double margin_px(double sigma_nm) const noexcept {
    return psf::IntegratedGaussian<double>::support_sigmas * sigma_nm / pixel_nm;
  }

  /// ok, or the first bad field named with its value.
  Status validate() const {
    constexpr const char* who = "sim::TrainingConditions: ";
    const auto finite = [](double v) { return std::isfinite(v); };
    if (!(pixel_nm > 0 && finite(pixel_nm)))
      return make_error(errc::invalid_argument, who, "pixel_nm = ", pixel_nm, " must be finite and > 0");
    const auto check_range = [&](const char* field, const ValueRange& r, bool lo_positive) -> Status {
      if (finite(r.lo) && finite(r.hi) && r.lo <= r.hi && (lo_positive ? r.lo > 0 : r.lo >= 0)) return {};
      return make_error(errc::invalid_argument, who, field, " = [", r.lo, ", ", r.hi, "] must be finite with ",
                        lo_positive ? "0 < lo <= hi" : "0 <= lo <= hi");
    };
    SMLM_TRY(check_range("sigma_nm", sigma_nm, true));
    SMLM_TRY(check_range("photons", photons, false));
    if (!(photon_spread == 0 || (photon_spread >= 1 && finite(photon_spread))))
      return make_error(errc::invalid_argument, who, "photon_spread = ", photon_spread,
                        " must be 0 (independent emitters) or finite and >= 1");
    SMLM_TRY(check_range("background_photons", background_photons, false));
    SMLM_TRY(check_range("density_per_um2", density_per_um2, false));
    if (!finite(quality.lo) || !finite(quality.hi) || quality.lo > quality.hi || quality.hi > 100 ||
        (quality.lo < 0 && quality.hi >= 0) || (quality.lo >= 0 && std::ceil(quality.lo) > std::floor(quality.hi)))
      return make_error(errc::invalid_argument, who, "quality = [", quality.lo, ", ", quality.hi,
                        "] must be finite with 0 <= lo <= hi <= 100 holding an integer, or both < 0 (no codec)");
    if (codec_gop_frames < 1 || codec_gop_frames > 64)
      return make_error(errc::invalid_argument, who, "codec_gop_frames = ", codec_gop_frames, " must be in 1..64");
    if (patch_px < 1 || patch_px > 4096)
      return make_error(errc::invalid_argument, who, "patch_px = ", patch_px, " must be in 1..4096");
    double total_weight = 0;
    for (std::size_t k = 0; k < scene_weights.size(); ++k) {
      if (!(scene_weights[k] >= 0 && finite(scene_weights[k])))
        return make_error(errc::invalid_argument, who, "scene_weights[", k, "] (",
                          to_string(static_cast<SceneKind>(k)), ") = ", scene_weights[k], " must be finite and >= 0");
      total_weight += scene_weights[k];
    }
    if (!(total_weight > 0 && finite(total_weight)))
      return make_error(errc::invalid_argument, who, "scene_weights = {", scene_weights[0], ", ", scene_weights[1],
                        ", ", scene_weights[2], ", ", scene_weights[3], "} must not all be 0");
    if (!(max_local_density_per_um2 > 0 && finite(max_local_density_per_um2)))
      return make_error(errc::invalid_argument, who, "max_local_density_per_um2 = ", max_local_density_per_um2,
                        " must be finite and > 0");
    if (!(persistence_nm > 0 && finite(persistence_nm)))
      return make_error(errc::invalid_argument, who, "persistence_nm = ", persistence_nm, " must be finite and > 0");
    if (!(label_sd_nm >= 0 && finite(label_sd_nm)))
      return make_error(errc::invalid_argument, who, "label_sd_nm = ", label_sd_nm, " must be finite and >= 0");
    SMLM_TRY(check_range("bundle_separation_nm", bundle_separation_nm, true));
    SMLM_TRY(check_range("cluster_radius_nm", cluster_radius_nm, true));
    const double side_um = (static_cast<double>(patch_px) + 2 * margin_px(sigma_nm.hi)) * pixel_nm * 1e-3;
    if (!(density_per_um2.hi * side_um * side_um <= max_expected_emitters))
      return make_error(errc::out_of_range, who, "density_per_um2.hi = ", density_per_um2.hi, " gives ",
                        density_per_um2.hi * side_um * side_um, " expected emitters per patch, more than ",
                        max_expected_emitters);
    return {};
  }
};

/// One training pair: the recorded (and possibly coded) patch and the emitters inside it.
struct TrainingPatch {
  Image<float> frame;                     ///< patch_px × patch_px: camera ADU, or 8-bit video levels after the codec
  std::vector<Emitter<double>> emitters;  ///< inside the patch, patch pixel coordinates, photons set, frame 1
  double sigma_px = 0;                    ///< PSF sd of this patch, pixels
  double background_photons = 0;          ///< per pixel
  double density_per_um2 = 0;             ///< the mean density drawn for this patch
  double quality = -1;                    ///< codec quality, −1: not coded
  int codec_frames = 0;                   ///< coded: frames in its coded sequence (1: an I-frame); 0: not coded
  int grid_dx = 0, grid_dy = 0;           ///< coded: the block grid's offset against the patch
  SceneKind scene = SceneKind::uniform;
  int transform = 0;                      ///< bit 0: x flipped, bit 1: y flipped, bit 2: x and y swapped (first)
};

namespace detail {

enum class training_part : std::uint32_t { conditions = 0, scene = 1, photons = 2, camera = 3, sequence = 4 };

/// The stream of part `part` of patch `index` (see the header).
inline Philox4x32 training_engine(std::uint64_t seed, std::uint64_t index, training_part part) noexcept {
  const std::uint64_t key = seed ^ ((index >> 32) * 0x9E3779B97F4A7C15ull);
  Philox4x32 rng(key, static_cast<std::uint32_t>(index), rng_purpose::training);
  rng.discard_blocks(static_cast<std::uint64_t>(part) << 28);
  return rng;
}

inline double draw(Philox4x32& rng, const ValueRange& r) noexcept { return r.lo + (r.hi - r.lo) * uniform01<double>(rng); }

/// The range a patch's emitters draw their photons from (header, step 4): `photons` itself for
/// spread 0 (no number drawn), else [max(lo, L/s), min(hi, L·s)] around a level L log-uniform in
/// [lo, hi] (uniform when lo = 0).
inline ValueRange patch_photons(Philox4x32& rng, const ValueRange& photons, double spread) noexcept {
  if (spread == 0) return photons;
  const double u = uniform01<double>(rng);
  const double level = photons.lo > 0 ? photons.lo * std::pow(photons.hi / photons.lo, u) : u * photons.hi;
  return {std::max(photons.lo, level / spread), std::min(photons.hi, level * spread)};
}

/// Tangent step of the traced chains, nm (a polyline of this step: at the default persistence
/// length the tangent turns by 0.18 rad sd per step, and the polyline departs from the smooth
/// curve by about 2 nm).
inline constexpr double chain_step_nm = 100;
/// Longest chain, in circumradii of the field (a guard against chains coiling forever).
inline constexpr double max_chain_radii = 100;
/// Upper bound on chains or clusters per patch (a guard; the budget ends the loop long before).
inline constexpr int max_structures = 1 << 20;

/// max over x of Σ_j N(x; offsets[j], sd²) (1/nm): the peak of a bundle's blurred profile, found
/// on a grid of 1/16 of the sd over the strands' span (the sum is smooth on that scale).
inline double strand_profile_peak(const double* offsets, int strands, double sd) noexcept {
  const double lo = *std::min_element(offsets, offsets + strands), hi = *std::max_element(offsets, offsets + strands);
  const double norm = 1 / (std::sqrt(2 * std::numbers::pi) * sd), h = sd / 16;
  double best = 0;
  for (double x = lo;; x += h) {
    const double at = std::min(x, hi);
    double sum = 0;
    for (int j = 0; j < strands; ++j) sum += std::exp(-0.5 * (at - offsets[j]) * (at - offsets[j]) / (sd * sd));
    best = std::max(best, sum);
    if (at >= hi) break;
  }
  return norm * best;
}

}  // namespace detail

template <camera::Model Camera>
class TrainingPairGenerator {
 public:
  using scalar = typename Camera::scalar;

  /// Buffers of generate(): photon image, recorded frame (for a double camera), scene positions,
  /// every placed emitter, and one CodecStage per quality used (created on first use).
  struct Scratch {
    Image<scalar> photons;
    Image<scalar> adu;
    std::vector<Position> positions;
    std::vector<Emitter<double>> emitters;
    std::array<std::unique_ptr<CodecStage>, 101> stages;           ///< intra-only, per quality
    std::array<std::unique_ptr<CodecStage>, 101> sequence_stages;  ///< I then P-frames, per quality
    Image<float> earlier;                                          ///< a sequence's earlier frame
  };

  TrainingPairGenerator(TrainingConditions conditions, Camera camera, std::uint64_t seed)
      : conditions_(std::move(conditions)), camera_(std::move(camera)), seed_(seed), valid_(validate().ok()) {}

  /// The conditions' validate(), and a camera with a sensor size (sCMOS maps) must be patch_px square.
  Status validate() const {
    SMLM_TRY(conditions_.validate());
    if constexpr (requires(const Camera& c) {
                    { c.width() } -> std::convertible_to<std::ptrdiff_t>;
                    { c.height() } -> std::convertible_to<std::ptrdiff_t>;
                  }) {
      if (camera_.width() != conditions_.patch_px || camera_.height() != conditions_.patch_px)
        return make_error(errc::invalid_argument, "sim::TrainingPairGenerator: the camera's sensor is ", camera_.width(),
                          "x", camera_.height(), " pixels, the patch ", conditions_.patch_px, "x", conditions_.patch_px);
    }
    return {};
  }

  const TrainingConditions& conditions() const noexcept { return conditions_; }
  const Camera& camera() const noexcept { return camera_; }
  std::uint64_t seed() const noexcept { return seed_; }

  /// Patch number `index` into `out` (storage reused), with this thread's Scratch.
  /// Precondition: validate() is ok (SMLM_ASSERT).
  void generate(std::uint64_t index, TrainingPatch& out) const {
    thread_local Scratch scratch;
    generate(index, out, scratch);
  }

  /// As above with the caller's scratch (one per thread).
  void generate(std::uint64_t index, TrainingPatch& out, Scratch& scratch) const {
    SMLM_ASSERT(valid_, "sim::TrainingPairGenerator::generate: the conditions are invalid (see validate())");
    const TrainingConditions& c = conditions_;
    const std::ptrdiff_t n = c.patch_px;

    // 1. Conditions.
    Philox4x32 rng = detail::training_engine(seed_, index, detail::training_part::conditions);
    out.scene = pick_scene(uniform01<double>(rng));
    const double sigma_nm = detail::draw(rng, c.sigma_nm);
    out.sigma_px = sigma_nm / c.pixel_nm;
    out.background_photons = detail::draw(rng, c.background_photons);
    out.density_per_um2 = detail::draw(rng, c.density_per_um2);
    const double u_quality = uniform01<double>(rng);
    if (c.coded()) {
      const double lo = std::ceil(c.quality.lo), hi = std::floor(c.quality.hi);
      out.quality = std::min(hi, lo + std::floor(u_quality * (hi - lo + 1)));
    } else {
      out.quality = -1;
    }
    const std::uint32_t transform_word = rng();
    out.transform = c.augment ? static_cast<int>(transform_word >> 29) : 0;
    const std::uint64_t structure_seed = rng.next_u64();
    out.codec_frames = c.coded() ? 1 : 0;
    out.grid_dx = out.grid_dy = 0;
    if (c.coded_as_sequence()) {  // drawn after the numbers above, which stay where they were
      const double u_frames = uniform01<double>(rng);
      const std::uint32_t grid_word = rng();
      out.codec_frames = std::min(c.codec_gop_frames, 1 + static_cast<int>(u_frames * c.codec_gop_frames));
      if (c.codec_grid_offset) out.grid_dx = static_cast<int>(grid_word & 15u), out.grid_dy = static_cast<int>((grid_word >> 4) & 15u);
    }

    // 2. Scene over the extended field, then into patch pixels (margin emitters negative or ≥ n).
    const double margin_px = c.margin_px(sigma_nm);
    const double side_nm = (static_cast<double>(n) + 2 * margin_px) * c.pixel_nm;
    std::vector<Emitter<double>>& all = scratch.emitters;
    all.clear();
    Philox4x32 scene_rng = detail::training_engine(seed_, index, detail::training_part::scene);
    switch (out.scene) {
      case SceneKind::uniform: {
        scratch.positions.clear();
        const Status s = uniform({side_nm, side_nm}, {out.density_per_um2}, structure_seed, scratch.positions);
        SMLM_ASSERT(s.ok(), "sim::TrainingPairGenerator: uniform scene rejected");
        (void)s;
        std::int64_t k = 0;
        for (const Position& p : scratch.positions) all.push_back(label(p.x_nm, p.y_nm, 4 * k++ + 1));
        break;
      }
      case SceneKind::filaments:
      case SceneKind::bundles:
        chains(scene_rng, out.scene == SceneKind::bundles, side_nm, out.density_per_um2, sigma_nm, all);
        break;
      case SceneKind::clusters: clusters(scene_rng, side_nm, out.density_per_um2, sigma_nm, all); break;
    }
    const double inv_pixel = 1 / c.pixel_nm;
    const double size = static_cast<double>(n);
    for (Emitter<double>& e : all) {
      double x = e.x_px * inv_pixel - margin_px, y = e.y_px * inv_pixel - margin_px;
      // 3. Augmentation about the patch centre.
      if (out.transform & 4) std::swap(x, y);
      if (out.transform & 1) x = size - x;
      if (out.transform & 2) y = size - y;
      e.x_px = x;
      e.y_px = y;
    }

    // 4. Photons.
    Philox4x32 photon_rng = detail::training_engine(seed_, index, detail::training_part::photons);
    const ValueRange emitter_photons = detail::patch_photons(photon_rng, c.photons, c.photon_spread);
    for (Emitter<double>& e : all) e.photons = detail::draw(photon_rng, emitter_photons);

    // 5. Expected photons and the camera.
    if (scratch.photons.rows() != n || scratch.photons.cols() != n) scratch.photons.resize(n, n);
    if (out.frame.rows() != n || out.frame.cols() != n) out.frame.resize(n, n);
    scratch.photons.setConstant(static_cast<scalar>(out.background_photons));
    const psf::IntegratedGaussian<scalar> psf{.sigma_px = static_cast<scalar>(out.sigma_px)};
    out.emitters.clear();
    for (const Emitter<double>& e : all) {
      psf.add_to(psf::to_spot<scalar>(e), make_view(scratch.photons));
      if (e.x_px >= 0 && e.x_px < size && e.y_px >= 0 && e.y_px < size) out.emitters.push_back(e);
    }
    Philox4x32 camera_rng = detail::training_engine(seed_, index, detail::training_part::camera);
    record_frame(scratch, camera_rng, static_cast<std::uint32_t>(index), out.frame);

    // 6. Codec.
    if (c.coded_as_sequence()) {
      CodecStage& stage = sequence_stage(scratch, static_cast<int>(out.quality));
      stage.set_conversion(video_conversion_for(camera_, out.background_photons, c.photons.hi, out.sigma_px));
      stage.restart(out.grid_dx, out.grid_dy);
      Philox4x32 blink_rng = detail::training_engine(seed_, index, detail::training_part::sequence);
      if (scratch.earlier.rows() != n || scratch.earlier.cols() != n) scratch.earlier.resize(n, n);
      for (int j = 1; j < out.codec_frames; ++j) {
        scratch.photons.setConstant(static_cast<scalar>(out.background_photons));
        for (const Emitter<double>& e : all)
          if (uniform01<double>(blink_rng) < 0.5) psf.add_to(psf::to_spot<scalar>(e), make_view(scratch.photons));
        Philox4x32 earlier_rng = detail::training_engine(seed_ ^ (std::uint64_t(j) * 0xC2B2AE3D27D4EB4Full), index,
                                                         detail::training_part::camera);
        const auto earlier_frame = static_cast<std::uint32_t>(index - static_cast<std::uint64_t>(out.codec_frames - j));
        record_frame(scratch, earlier_rng, earlier_frame, scratch.earlier);
        stage(0, make_view(scratch.earlier));
      }
      stage(0, make_view(out.frame));
    } else if (c.coded()) {
      CodecStage& stage = codec_stage(scratch, static_cast<int>(out.quality));
      stage.set_conversion(video_conversion_for(camera_, out.background_photons, c.photons.hi, out.sigma_px));
      stage(0, make_view(out.frame));
    }
  }

 private:
  SceneKind pick_scene(double u) const noexcept {
    const auto& w = conditions_.scene_weights;
    const double total = w[0] + w[1] + w[2] + w[3];
    double cumulative = 0;
    std::size_t last = 0;
    for (std::size_t k = 0; k < scene_kind_count; ++k) {
      if (w[k] <= 0) continue;
      last = k;
      cumulative += w[k];
      if (u * total < cumulative) return static_cast<SceneKind>(k);
    }
    return static_cast<SceneKind>(last);
  }

  static Emitter<double> label(double x_nm, double y_nm, std::int64_t id) noexcept {
    Emitter<double> e;
    e.x_px = x_nm;  // nm until the conversion to patch pixels
    e.y_px = y_nm;
    e.frame = 1;
    e.id = id;
    return e;
  }

  /// Filament or bundle scenes (see the header): chains are added until their expected labels
  /// inside the field reach density · area; their labels are thinned to that target.
  void chains(Philox4x32& rng, bool bundles, double side_nm, double density_per_um2, double sigma_nm,
              std::vector<Emitter<double>>& out) const {
    const TrainingConditions& c = conditions_;
    const double cap_per_nm2 = c.max_local_density_per_um2 * 1e-6;
    const double profile_sd = std::sqrt(c.label_sd_nm * c.label_sd_nm + sigma_nm * sigma_nm);
    const double centre = 0.5 * side_nm, radius = std::numbers::sqrt2 * centre;
    const double angle_sd = std::sqrt(detail::chain_step_nm / c.persistence_nm);
    const double target = density_per_um2 * side_nm * side_nm * 1e-6;  // expected labels
    // Mean contour of a chain inside the field: area / (2 · circumradius) (see the header).
    const double mean_contour_nm = side_nm * side_nm / (2 * radius);
    const std::size_t first = out.size();
    double expected = 0;                     // Σ λ · mean_contour_nm over the chains so far
    double budget = 0;                       // Σ λ · contour inside the field, as traced
    double next = exponential<double>(rng);  // budget coordinate of the next label
    for (int chain = 0; expected < target && chain < detail::max_structures; ++chain) {
      std::array<double, 4> offsets{};
      int strands = 1;
      if (bundles) {
        strands = 2 + static_cast<int>(rng() % 3u);
        const auto k = static_cast<std::size_t>(strands);
        for (std::size_t j = 1; j < k; ++j) offsets[j] = offsets[j - 1] + detail::draw(rng, c.bundle_separation_nm);
        const double mid = 0.5 * (offsets[0] + offsets[k - 1]);
        for (std::size_t j = 0; j < k; ++j) offsets[j] -= mid;
      }
      const double lambda = cap_per_nm2 * strands / detail::strand_profile_peak(offsets.data(), strands, profile_sd);
      expected += lambda * mean_contour_nm;
      // Enters the field's circumcircle along an isotropic uniform random line (direction θ,
      // signed distance p from the centre) and is traced until it leaves the circle.
      double theta = 2 * std::numbers::pi * uniform01<double>(rng);
      const double p = radius * (2 * uniform01<double>(rng) - 1);
      const double half_chord = std::sqrt(std::max(0.0, radius * radius - p * p));
      double x = centre - half_chord * std::cos(theta) - p * std::sin(theta);
      double y = centre - half_chord * std::sin(theta) + p * std::cos(theta);
      // The first step is the part of a step left after crossing the circle, a uniform fraction:
      // then the entering chains are those of the stationary polyline process.
      double ds = detail::chain_step_nm * uniform01<double>(rng);
      for (double s = 0; s < detail::max_chain_radii * radius; s += ds, ds = detail::chain_step_nm) {
        const double tx = std::cos(theta), ty = std::sin(theta);
        const double mx = x + 0.5 * ds * tx, my = y + 0.5 * ds * ty;
        if (mx >= 0 && mx < side_nm && my >= 0 && my < side_nm) {
          budget += lambda * ds;
          while (next < budget) {
            const double along = ds - (budget - next) / lambda;
            const std::uint32_t strand = strands == 1 ? 0u : rng() % static_cast<std::uint32_t>(strands);
            const double off = offsets[strand] + (c.label_sd_nm > 0 ? c.label_sd_nm * normal<double>(rng) : 0.0);
            out.push_back(label(x + along * tx - off * ty, y + along * ty + off * tx,
                                4 * static_cast<std::int64_t>(chain) + strand + 1));
            next += exponential<double>(rng);
          }
        }
        x += ds * tx;
        y += ds * ty;
        if ((x - centre) * (x - centre) + (y - centre) * (y - centre) > radius * radius) break;
        theta += angle_sd * normal<double>(rng);
      }
    }
    // Thinning to the target: each label kept with probability target / expected.
    if (expected > target) {
      const double keep = target / expected;
      std::size_t kept = first;
      for (std::size_t i = first; i < out.size(); ++i)
        if (uniform01<double>(rng) < keep) out[kept++] = out[i];
      out.resize(kept);
    }
  }

  /// Cluster scenes (see the header).
  void clusters(Philox4x32& rng, double side_nm, double density_per_um2, double sigma_nm,
                std::vector<Emitter<double>>& out) const {
    const TrainingConditions& c = conditions_;
    const double cap_per_nm2 = c.max_local_density_per_um2 * 1e-6;
    double budget = density_per_um2 * side_nm * side_nm * 1e-6;
    for (int k = 0; budget > 0 && k < detail::max_structures; ++k) {
      const double r = detail::draw(rng, c.cluster_radius_nm);
      const double expected = std::min(budget, cap_per_nm2 * 2 * std::numbers::pi * (r * r + sigma_nm * sigma_nm));
      budget -= expected;
      const double cx = side_nm * uniform01<double>(rng), cy = side_nm * uniform01<double>(rng);
      const std::int64_t count = poisson<double>(rng, expected);
      for (std::int64_t i = 0; i < count; ++i) {
        const double dx = r * normal<double>(rng), dy = r * normal<double>(rng);
        out.push_back(label(cx + dx, cy + dy, 4 * static_cast<std::int64_t>(k) + 1));
      }
    }
  }

  /// The camera's recording of scratch.photons (frame index `frame`) into `out` (float ADU).
  void record_frame(Scratch& scratch, Philox4x32& rng, std::uint32_t frame, Image<float>& out) const {
    const std::ptrdiff_t n = conditions_.patch_px;
    if constexpr (std::is_same_v<scalar, float>) {
      camera::record_at(camera_, const_view(scratch.photons), rng, frame, make_view(out));
    } else {
      if (scratch.adu.rows() != n || scratch.adu.cols() != n) scratch.adu.resize(n, n);
      camera::record_at(camera_, const_view(scratch.photons), rng, frame, make_view(scratch.adu));
      out = scratch.adu.template cast<float>();
    }
  }

  /// A stage for coded sequences (I-frame first, then P-frames; restarted per patch).
  CodecStage& sequence_stage(Scratch& scratch, int quality) const {
    std::unique_ptr<CodecStage>& slot = scratch.sequence_stages[static_cast<std::size_t>(quality)];
    const auto n = static_cast<int>(conditions_.patch_px);
    // (A thread's scratch may serve generators of other sizes or deblocking in turn.)
    if (!slot || slot->last_reconstruction().rows() != n || slot->last_reconstruction().cols() != n ||
        slot->encoder().header().deblock != conditions_.codec_deblock) {
      codec::Settings settings;
      settings.quality = quality;
      settings.gop = 65535;  // restart() begins each patch's sequence with its one I-frame
      settings.deblock = conditions_.codec_deblock;
      auto stage = CodecStage::create(settings, n, n, 0, {});
      SMLM_ASSERT(stage.has_value(), "sim::TrainingPairGenerator: codec stage rejected");
      slot = std::make_unique<CodecStage>(std::move(*stage));
    }
    return *slot;
  }

  CodecStage& codec_stage(Scratch& scratch, int quality) const {
    std::unique_ptr<CodecStage>& slot = scratch.stages[static_cast<std::size_t>(quality)];
    const auto n = static_cast<int>(conditions_.patch_px);
    if (!slot || slot->last_reconstruction().rows() != n || slot->last_reconstruction().cols() != n) {
      codec::Settings settings;
      settings.quality = quality;
      settings.gop = 1;
      settings.intra_only = true;
      auto stage = CodecStage::create(settings, n, n, 0, {});
      SMLM_ASSERT(stage.has_value(), "sim::TrainingPairGenerator: codec stage rejected");
      slot = std::make_unique<CodecStage>(std::move(*stage));
    }
    return *slot;
  }

  TrainingConditions conditions_;
  Camera camera_;
  std::uint64_t seed_;
  bool valid_;
};

}  // namespace smlm::sim
