// The frame simulator: structure × blinking × PSF × camera (× an optional degradation stage).
//
// For every frame f = 0, 1, … (tables call it f + 1):
//   1. kinetics: the fluorophores' states advance one step (blinking.hpp; stream (seed, f, blinking));
//   2. drift: the stage offset d(f) = f·(vx, vy) + w(f), w a Gaussian random walk with steps
//      N(0, walk_sd_nm²) per axis drawn from (seed, f, drift) (w(0) = 0);
//   3. every on-fluorophore emits photons ~ PhotonDistribution (stream (seed, f, photons), in
//      fluorophore order) at its position plus d(f): one Emitter, in pixels, with id = its index + 1;
//   4. expected photons = background (constant + optional map) + Σ psf.add_to(emitter);
//   5. the camera records them with camera::record_frame(camera, …, seed, f, …);
//   6. the degradation stage, if any, transforms the recorded frame in place (a codec plugs in
//      here; it is called in frame order, on one thread, so a P-frame coder may keep state);
//   7. the sink receives (f, recorded frame, the frame's emitters) in frame order.
// Steps 1–3 are sequential and cheap; steps 4–5, the cost, run in parallel over a batch of
// chunk_frames frames with parallel_for. Every random number comes from a stream addressed by
// (seed, frame, purpose), so the output is identical for any thread count and any chunk size.
//
// Memory: run() allocates its buffers once (a batch of recorded frames, one photon image per
// thread, the fluorophore states and the batch's emitter list, which grows to its high-water mark
// and is reused); nothing is allocated per frame or per emitter once the first batch is done. The
// batch and the photon images stay in the Simulator for the next run (so a sink must not call
// run on the same Simulator). A
// movie of any length streams through the sink in memory proportional to chunk_frames.
//
// Ground truth: the Emitters the sink receives are exactly what was rendered (positions with
// drift, photons before quantum efficiency); append_truth turns them into LocalizationTable rows
// (nm, 1-based frames, photons) like ThunderSTORM's ground-truth CSV.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <smlm/camera/camera.hpp>
#include <smlm/core/emitter.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/parallel.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/core/status.hpp>
#include <smlm/psf/psf.hpp>
#include <smlm/sim/blinking.hpp>
#include <smlm/sim/structure.hpp>

namespace smlm::sim {

/// Lateral stage drift (see the header); nm per frame.
struct Drift {
  double x_nm_per_frame = 0;
  double y_nm_per_frame = 0;
  double walk_sd_nm = 0;  ///< sd of the random-walk step per frame and axis, ≥ 0
};

/// Everything about a simulation except the PSF, camera and fluorophore positions.
template <class T>
struct SimulationConfig {
  std::ptrdiff_t width_px = 64;
  std::ptrdiff_t height_px = 64;
  double pixel_nm = 100;               ///< camera pixel size in the sample plane
  T background_photons = 0;            ///< uniform background, photons per pixel per frame
  Image<T> background_map;             ///< optional (empty: none), height × width, added to it
  Kinetics kinetics;
  PhotonDistribution photons;
  Drift drift;
  std::uint64_t seed = 1;
  int threads = 1;                     ///< rendering threads (0: all hardware threads)
  std::ptrdiff_t chunk_frames = 64;    ///< frames rendered per parallel batch, ≥ 1

  Field field() const noexcept {
    return {static_cast<double>(width_px) * pixel_nm, static_cast<double>(height_px) * pixel_nm};
  }

  Status validate() const {
    if (width_px < 1 || height_px < 1)
      return make_error(errc::invalid_argument, "sim::SimulationConfig: frame size ", width_px, "x", height_px,
                        " must be at least 1x1");
    if (!(pixel_nm > 0 && std::isfinite(pixel_nm)))
      return make_error(errc::invalid_argument, "sim::SimulationConfig: pixel_nm = ", pixel_nm, " must be finite and > 0");
    if (!(background_photons >= 0 && std::isfinite(background_photons)))
      return make_error(errc::invalid_argument, "sim::SimulationConfig: background_photons = ", background_photons,
                        " must be finite and >= 0");
    if (background_map.size() != 0) {
      if (background_map.rows() != height_px || background_map.cols() != width_px)
        return make_error(errc::invalid_argument, "sim::SimulationConfig: background_map is ", background_map.cols(),
                          "x", background_map.rows(), ", the frame ", width_px, "x", height_px);
      for (Eigen::Index y = 0; y < background_map.rows(); ++y)
        for (Eigen::Index x = 0; x < background_map.cols(); ++x)
          if (!(background_map(y, x) >= 0 && std::isfinite(background_map(y, x))))
            return make_error(errc::invalid_argument, "sim::SimulationConfig: background_map(", y, ", ", x,
                              ") = ", background_map(y, x), " must be finite and >= 0");
    }
    SMLM_TRY(kinetics.validate());
    SMLM_TRY(photons.validate());
    if (!std::isfinite(drift.x_nm_per_frame) || !std::isfinite(drift.y_nm_per_frame) ||
        !(drift.walk_sd_nm >= 0 && std::isfinite(drift.walk_sd_nm)))
      return make_error(errc::invalid_argument, "sim::SimulationConfig: drift (", drift.x_nm_per_frame, ", ",
                        drift.y_nm_per_frame, ") nm/frame, walk sd ", drift.walk_sd_nm, " nm must be finite, sd >= 0");
    if (threads < 0) return make_error(errc::invalid_argument, "sim::SimulationConfig: threads = ", threads, " must be >= 0");
    if (chunk_frames < 1)
      return make_error(errc::invalid_argument, "sim::SimulationConfig: chunk_frames = ", chunk_frames, " must be >= 1");
    return {};
  }
};

/// Frame counts a simulation accepts: Philox's frame word is 32 bits.
inline Status check_frame_count(std::ptrdiff_t frames) {
  if (frames < 0 || frames > static_cast<std::ptrdiff_t>(std::numeric_limits<std::uint32_t>::max()))
    return make_error(errc::invalid_argument, "sim: frames = ", frames, " is outside 0..2^32-1");
  return {};
}

/// The default degradation stage: leaves the recorded frame as it is.
struct no_degradation {
  template <class View>
  void operator()(std::ptrdiff_t, View&&) const noexcept {}
};

/// Appends the emitters as ground-truth rows (id, frame, x, y, z in nm, intensity in photons).
template <class T>
void append_truth(LocalizationTable& table, std::span<const Emitter<T>> emitters, double pixel_nm) {
  for (const auto& e : emitters) table.push_back(e, pixel_nm);
}

template <psf::Model Psf, camera::Model Camera>
class Simulator {
 public:
  using scalar = typename Psf::scalar;
  static_assert(std::same_as<scalar, typename Camera::scalar>,
                "sim::Simulator: the PSF and the camera must use the same scalar type");
  using config_type = SimulationConfig<scalar>;

  Simulator(Psf psf, Camera camera, config_type config, std::vector<Position> fluorophores)
      : psf_(std::move(psf)), camera_(std::move(camera)), config_(std::move(config)), fluorophores_(std::move(fluorophores)) {}

  const Psf& psf() const noexcept { return psf_; }
  const Camera& camera() const noexcept { return camera_; }
  const config_type& config() const noexcept { return config_; }
  std::span<const Position> fluorophores() const noexcept { return fluorophores_; }

  /// Config and fluorophores usable (finite positions); a camera with a sensor size (width(),
  /// height(), as sCMOS maps have) must match the frame.
  Status validate() const {
    SMLM_TRY(config_.validate());
    if constexpr (requires(const Camera& c) {
                    { c.width() } -> std::convertible_to<std::ptrdiff_t>;
                    { c.height() } -> std::convertible_to<std::ptrdiff_t>;
                  }) {
      if (camera_.width() != config_.width_px || camera_.height() != config_.height_px)
        return make_error(errc::invalid_argument, "sim::Simulator: the camera's sensor is ", camera_.width(), "x",
                          camera_.height(), " pixels, the frame ", config_.width_px, "x", config_.height_px);
    }
    for (std::size_t i = 0; i < fluorophores_.size(); ++i) {
      const auto& p = fluorophores_[i];
      if (!std::isfinite(p.x_nm) || !std::isfinite(p.y_nm) || !std::isfinite(p.z_nm))
        return make_error(errc::invalid_argument, "sim::Simulator: fluorophore ", i, " at (", p.x_nm, ", ", p.y_nm,
                          ", ", p.z_nm, ") nm is not finite");
    }
    return {};
  }

  /// Steps 4–5 of the header for one frame: `photons` (height × width scratch) receives the
  /// expected photons, `adu` the recorded frame (camera stream (seed, frame)). Emitters are in
  /// pixels; their `frame` member is not used. Public so that training-pair generators can render
  /// their own emitter lists with the same physics.
  template <class U>
  void render(std::span<const Emitter<U>> emitters, std::uint32_t frame, ImageView<scalar> photons,
              ImageView<scalar> adu) const SMLM_NOEXCEPT {
    SMLM_ASSERT(photons.rows() == config_.height_px && photons.cols() == config_.width_px &&
                    adu.rows() == config_.height_px && adu.cols() == config_.width_px,
                "sim::Simulator::render: buffers must be height_px x width_px");
    if (config_.background_map.size() != 0) {
      photons = config_.background_map + config_.background_photons;
    } else {
      photons.setConstant(config_.background_photons);
    }
    for (const auto& e : emitters) psf_.add_to(psf::to_spot<scalar>(e), photons);
    camera::record_frame(camera_, const_view(photons), config_.seed, frame, adu);
  }

  /// Simulates frames 0 … frames − 1 (see the header). sink(std::ptrdiff_t frame,
  /// ConstImageView<scalar> adu, std::span<const Emitter<double>> emitters) is called once per
  /// frame in order and may return void or a Status (an error stops the run and is returned);
  /// degrade(std::ptrdiff_t frame, ImageView<scalar> adu) runs just before it. Errors: the
  /// configuration's, or frames outside [0, 2^32).
  template <class Sink, class Degrade = no_degradation>
  Status run(std::ptrdiff_t frames, Sink&& sink, Degrade&& degrade = {}) {
    SMLM_TRY(validate());
    SMLM_TRY(check_frame_count(frames));
    const std::ptrdiff_t h = config_.height_px, w = config_.width_px;
    const std::ptrdiff_t chunk = std::min(config_.chunk_frames, std::max<std::ptrdiff_t>(frames, 1));
    const int threads = config_.threads == 0 ? hardware_threads() : config_.threads;
    // The batch and the photon images are kept for the next run (same size: no allocation, no
    // page faults on 256 × 16 KB per call).
    if (batch_.frames() != chunk || batch_.height() != h || batch_.width() != w) batch_ = Stack<scalar>(chunk, h, w);
    const auto workers = static_cast<std::size_t>(std::max(threads, 1));
    if (scratch_.size() < workers || scratch_[0].rows() != h || scratch_[0].cols() != w)
      scratch_.assign(workers, Image<scalar>(h, w));
    Stack<scalar>& batch = batch_;
    std::vector<Image<scalar>>& scratch = scratch_;
    std::vector<fluorophore_state> states(fluorophores_.size(), fluorophore_state::off);
    std::vector<Emitter<double>> emitters;
    std::vector<std::size_t> offsets(static_cast<std::size_t>(chunk) + 1, 0);
    double walk_x = 0, walk_y = 0;
    const double inv_pixel = 1 / config_.pixel_nm;

    for (std::ptrdiff_t first = 0; first < frames; first += chunk) {
      const std::ptrdiff_t count = std::min(chunk, frames - first);
      emitters.clear();
      for (std::ptrdiff_t j = 0; j < count; ++j) {
        const auto f = static_cast<std::uint32_t>(first + j);
        step_frame(config_.kinetics, config_.seed, f, states);
        if (f > 0 && config_.drift.walk_sd_nm > 0) {
          Philox4x32 drift_rng(config_.seed, f, rng_purpose::drift);
          walk_x += config_.drift.walk_sd_nm * normal<double>(drift_rng);
          walk_y += config_.drift.walk_sd_nm * normal<double>(drift_rng);
        }
        const double dx = static_cast<double>(f) * config_.drift.x_nm_per_frame + walk_x;
        const double dy = static_cast<double>(f) * config_.drift.y_nm_per_frame + walk_y;
        simd::philox_stream photon_rng(config_.seed, f, rng_purpose::photons);  // Philox4x32's words
        for (std::size_t i = 0; i < states.size(); ++i) {
          if (states[i] != fluorophore_state::on) continue;
          const Position& p = fluorophores_[i];
          Emitter<double> e;
          e.x_px = (p.x_nm + dx) * inv_pixel;
          e.y_px = (p.y_nm + dy) * inv_pixel;
          e.z_nm = p.z_nm;
          e.photons = config_.photons.sample(photon_rng);
          e.frame = static_cast<std::int32_t>(f + 1);
          e.id = static_cast<std::int64_t>(i) + 1;
          emitters.push_back(e);
        }
        offsets[static_cast<std::size_t>(j) + 1] = emitters.size();
      }
      parallel_for(count, threads, [&](std::ptrdiff_t j, int worker) {
        const auto b = offsets[static_cast<std::size_t>(j)], e = offsets[static_cast<std::size_t>(j) + 1];
        render(std::span<const Emitter<double>>(emitters.data() + b, e - b), static_cast<std::uint32_t>(first + j),
               make_view(scratch[static_cast<std::size_t>(worker)]), batch.frame(j));
      });
      for (std::ptrdiff_t j = 0; j < count; ++j) {
        const auto b = offsets[static_cast<std::size_t>(j)], e = offsets[static_cast<std::size_t>(j) + 1];
        degrade(first + j, batch.frame(j));
        const std::span<const Emitter<double>> frame_emitters(emitters.data() + b, e - b);
        using result = std::invoke_result_t<Sink&, std::ptrdiff_t, ConstImageView<scalar>, std::span<const Emitter<double>>>;
        if constexpr (std::is_same_v<result, Status>) {
          SMLM_TRY(sink(first + j, std::as_const(batch).frame(j), frame_emitters));
        } else {
          sink(first + j, std::as_const(batch).frame(j), frame_emitters);
        }
      }
    }
    return {};
  }

 private:
  Psf psf_;
  Camera camera_;
  config_type config_;
  std::vector<Position> fluorophores_;
  Stack<scalar> batch_;                 // run()'s recorded frames, kept between runs
  std::vector<Image<scalar>> scratch_;  // run()'s photon image per thread, kept between runs
};

/// A whole simulated movie in memory.
template <class T>
struct Simulation {
  Stack<T> stack;
  LocalizationTable truth;
};

/// Runs `sim` for `frames` frames into a Stack and its ground truth.
template <class Psf, class Camera, class Degrade = no_degradation>
Expected<Simulation<typename Psf::scalar>> simulate(Simulator<Psf, Camera>& sim, std::ptrdiff_t frames,
                                                    Degrade&& degrade = {}) {
  using T = typename Psf::scalar;
  Simulation<T> out;
  const auto& c = sim.config();
  SMLM_TRY(check_frame_count(frames));
  SMLM_TRY(sim.validate());
  out.stack = Stack<T>(frames, c.height_px, c.width_px);
  SMLM_TRY(sim.run(
      frames,
      [&](std::ptrdiff_t f, ConstImageView<T> adu, std::span<const Emitter<double>> emitters) {
        out.stack.frame(f) = adu;
        append_truth(out.truth, emitters, c.pixel_nm);
      },
      std::forward<Degrade>(degrade)));
  return out;
}

}  // namespace smlm::sim
