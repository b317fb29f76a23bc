// Blinking: per-fluorophore on/off/bleached kinetics and the photons an on-fluorophore emits.
//
// Kinetics (a discrete-time Markov chain, one step per frame). A fluorophore is off, on or
// bleached in each frame; between frame f and f + 1 it moves with the per-frame probabilities
//   on  → off       p_on_off          on → bleached   p_bleach          on → on   1 − p_on_off − p_bleach
//   off → on        p_off_on          off → off       1 − p_off_on      bleached → bleached   1
// and it emits (for the whole frame) in every frame it is on. Bleaching happens only from the on
// state (photobleaching needs excitation of the emitting state). From continuous rates k (1/s) and
// an exposure Δt, the probability of a transition within one frame is p = 1 − exp(−k·Δt)
// (Kinetics::from_rates; competing on-state rates are split in proportion to the rates).
// Results used by the tests and by Simulator users:
//   stationary on-fraction (no bleaching)  π_on = p_off_on / (p_off_on + p_on_off)
//   on-time (frames, geometric)            mean 1 / (p_on_off + p_bleach)
//   off-time (frames, geometric)           mean 1 / p_off_on
//   survival S(t) = P(not bleached after t steps) = (1, 1)·Mᵗ·(π₀_off, π₀_on)ᵀ with M the 2×2
//   sub-stochastic matrix of the off/on states (survival_after); the bleaching half-life is the
//   first t with S(t) ≤ ½.
// With p_on_off = 1 − p_off_on and no bleaching the rows of M are equal: each frame is on
// independently with probability p_off_on (ThunderSTORM's generator draws emitters like that).
//
// Initial state (frame 0): on with probability start_on_fraction, or π_on when it is negative
// (the default, so a movie starts in the stationary state).
//
// Streams. Frame f's transitions of all fluorophores are drawn from Philox4x32(seed, f,
// rng_purpose::blinking), fluorophore after fluorophore, two 32-bit outputs (one double uniform)
// per fluorophore not yet bleached. Photon numbers of frame f come from Philox4x32(seed, f,
// rng_purpose::photons) in the order of the on-fluorophores. Advancing frame by frame is therefore
// the only sequential part of a simulation (O(fluorophores) per frame, a few ns each); it does not
// depend on how many threads render the frames.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/core/status.hpp>
#include <smlm/simd/philox.hpp>

namespace smlm::sim {

enum class fluorophore_state : std::uint8_t { off = 0, on = 1, bleached = 2 };

/// Per-frame transition probabilities (see the header).
struct Kinetics {
  double p_on_off = 0.5;       ///< P(on → off) per frame
  double p_off_on = 0.05;      ///< P(off → on) per frame
  double p_bleach = 0;         ///< P(on → bleached) per frame; p_on_off + p_bleach ≤ 1
  double start_on_fraction = -1;  ///< P(on) at frame 0; < 0: the stationary on-fraction

  /// From rates in 1/s and the frame exposure in s: P(leave on within Δt) = 1 − exp(−(k_off +
  /// k_bleach)·Δt), split between off and bleached in proportion to the rates.
  static Kinetics from_rates(double k_on_off_per_s, double k_off_on_per_s, double k_bleach_per_s,
                             double frame_s) noexcept {
    Kinetics k;
    const double leave = k_on_off_per_s + k_bleach_per_s;
    const double p_leave = -std::expm1(-leave * frame_s);
    k.p_on_off = leave > 0 ? p_leave * k_on_off_per_s / leave : 0.0;
    k.p_bleach = leave > 0 ? p_leave * k_bleach_per_s / leave : 0.0;
    k.p_off_on = -std::expm1(-k_off_on_per_s * frame_s);
    return k;
  }

  /// Frames in which every fluorophore is on independently with probability q (no memory).
  static Kinetics independent(double q) noexcept { return {1 - q, q, 0, q}; }

  Status validate() const {
    auto prob = [](double p) { return p >= 0 && p <= 1; };
    if (!prob(p_on_off)) return make_error(errc::invalid_argument, "sim::Kinetics: p_on_off = ", p_on_off, " is not in [0, 1]");
    if (!prob(p_off_on)) return make_error(errc::invalid_argument, "sim::Kinetics: p_off_on = ", p_off_on, " is not in [0, 1]");
    if (!prob(p_bleach)) return make_error(errc::invalid_argument, "sim::Kinetics: p_bleach = ", p_bleach, " is not in [0, 1]");
    if (!(p_on_off + p_bleach <= 1))
      return make_error(errc::invalid_argument, "sim::Kinetics: p_on_off + p_bleach = ", p_on_off + p_bleach, " exceeds 1");
    if (!(start_on_fraction <= 1))
      return make_error(errc::invalid_argument, "sim::Kinetics: start_on_fraction = ", start_on_fraction,
                        " must be in [0, 1] (or negative: stationary)");
    if (start_on_fraction < 0 && p_off_on + p_on_off <= 0)
      return make_error(errc::invalid_argument,
                        "sim::Kinetics: no stationary on-fraction when p_on_off = p_off_on = 0; set start_on_fraction");
    return {};
  }

  /// π_on = p_off_on / (p_off_on + p_on_off), the on-fraction of the chain without bleaching.
  double stationary_on_fraction() const noexcept { return p_off_on / (p_off_on + p_on_off); }
  double initial_on_fraction() const noexcept {
    return start_on_fraction >= 0 ? start_on_fraction : stationary_on_fraction();
  }
  double mean_on_frames() const noexcept { return 1 / (p_on_off + p_bleach); }
  double mean_off_frames() const noexcept { return 1 / p_off_on; }

  /// P(not bleached after `steps` transitions), from the initial state (see the header).
  double survival_after(std::int64_t steps) const noexcept {
    double off = 1 - initial_on_fraction(), on = initial_on_fraction();
    for (std::int64_t t = 0; t < steps; ++t) {
      const double next_off = off * (1 - p_off_on) + on * p_on_off;
      const double next_on = off * p_off_on + on * (1 - p_on_off - p_bleach);
      off = next_off;
      on = next_on;
    }
    return off + on;
  }
};

/// Frame 0: each fluorophore on with probability kinetics.initial_on_fraction().
template <bit_engine Rng>
void initialize_states(const Kinetics& kinetics, Rng& rng, std::span<fluorophore_state> states) noexcept {
  const double q = kinetics.initial_on_fraction();
  for (auto& s : states) s = uniform01<double>(rng) < q ? fluorophore_state::on : fluorophore_state::off;
}

/// One frame-to-frame transition of every fluorophore (one double uniform each unless bleached).
template <bit_engine Rng>
void advance_states(const Kinetics& kinetics, Rng& rng, std::span<fluorophore_state> states) noexcept {
  const double leave_on = kinetics.p_bleach + kinetics.p_on_off;
  for (auto& s : states) {
    if (s == fluorophore_state::bleached) continue;
    const double u = uniform01<double>(rng);
    if (s == fluorophore_state::on) {
      if (u < kinetics.p_bleach) {
        s = fluorophore_state::bleached;
      } else if (u < leave_on) {
        s = fluorophore_state::off;
      }
    } else if (u < kinetics.p_off_on) {
      s = fluorophore_state::on;
    }
  }
}

/// States of frame `frame` (0-based) of the simulation with `seed`: frame 0 initialises, later
/// frames advance the previous frame's states (call in frame order).
inline void step_frame(const Kinetics& kinetics, std::uint64_t seed, std::uint32_t frame,
                       std::span<fluorophore_state> states) noexcept {
  simd::philox_stream rng(seed, frame, rng_purpose::blinking);  // Philox4x32's words, 8 blocks at a time
  if (frame == 0) {
    initialize_states(kinetics, rng, states);
  } else {
    advance_states(kinetics, rng, states);
  }
}

/// Photons emitted by an on-fluorophore in one frame.
//   constant     a
//   uniform      U[a, b]                          mean (a+b)/2, variance (b−a)²/12
//   lognormal    mean a, sd b: exp(N(μ, σ²)), σ² = ln(1 + b²/a²), μ = ln a − σ²/2
//   exponential  mean a (the continuous limit of a geometric photon budget; variance a²)
struct PhotonDistribution {
  enum class kind : std::uint8_t { constant, uniform, lognormal, exponential };
  kind type = kind::uniform;
  double a = 2000;
  double b = 2500;

  static PhotonDistribution constant(double photons) noexcept { return {kind::constant, photons, photons}; }
  static PhotonDistribution uniform(double lo, double hi) noexcept { return {kind::uniform, lo, hi}; }
  static PhotonDistribution lognormal(double mean, double sd) noexcept { return {kind::lognormal, mean, sd}; }
  static PhotonDistribution exponential(double mean) noexcept { return {kind::exponential, mean, 0}; }

  Status validate() const {
    const bool finite = std::isfinite(a) && std::isfinite(b);
    switch (type) {
      case kind::constant:
        if (finite && a >= 0) return {};
        return make_error(errc::invalid_argument, "sim::PhotonDistribution: constant photons = ", a, " must be finite and >= 0");
      case kind::uniform:
        if (finite && a >= 0 && a <= b) return {};
        return make_error(errc::invalid_argument, "sim::PhotonDistribution: uniform range ", a, ":", b,
                          " needs 0 <= A <= B, both finite");
      case kind::lognormal:
        if (finite && a > 0 && b >= 0) return {};
        return make_error(errc::invalid_argument, "sim::PhotonDistribution: lognormal mean ", a, " sd ", b,
                          " needs mean > 0, sd >= 0");
      case kind::exponential:
        if (finite && a > 0) return {};
        return make_error(errc::invalid_argument, "sim::PhotonDistribution: exponential mean = ", a, " must be > 0");
    }
    return make_error(errc::invalid_argument, "sim::PhotonDistribution: unknown kind");
  }

  double mean() const noexcept {
    switch (type) {
      case kind::constant: return a;
      case kind::uniform: return 0.5 * (a + b);
      case kind::lognormal:
      case kind::exponential: return a;
    }
    return 0;
  }
  double variance() const noexcept {
    switch (type) {
      case kind::constant: return 0;
      case kind::uniform: return (b - a) * (b - a) / 12;
      case kind::lognormal: return b * b;
      case kind::exponential: return a * a;
    }
    return 0;
  }

  /// One draw: constant none, uniform and exponential one double uniform, lognormal one double
  /// normal (two 32-bit outputs each).
  template <bit_engine Rng>
  double sample(Rng& rng) const noexcept {
    switch (type) {
      case kind::constant: return a;
      case kind::uniform: return a + (b - a) * uniform01<double>(rng);
      case kind::lognormal: {
        const double s2 = std::log1p((b / a) * (b / a));
        return std::exp(std::log(a) - 0.5 * s2 + std::sqrt(s2) * normal<double>(rng));
      }
      case kind::exponential: return a * smlm::exponential<double>(rng);
    }
    return 0;
  }
};

}  // namespace smlm::sim
