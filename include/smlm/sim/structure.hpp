// Structures: where the fluorophores sit, in nanometres over a rectangular field of view.
//
// Every generator appends label positions to a caller-owned std::vector<Position> (setup code: it
// grows the vector, nothing else is allocated) and returns a Status naming the parameter and value
// it rejects. Coordinates follow the library's convention: x_nm / pixel_nm is the continuous pixel
// coordinate in which pixel i spans [i, i+1); the field covers [0, width_nm) × [0, height_nm), and
// every position a generator appends lies inside it.
//
// Randomness: each generator draws from the stream Philox4x32(seed, instance, rng_purpose::emitters)
// (rng.hpp). `instance` lets one seed place several independent structures (for example filaments
// and rings in one field) without reusing random numbers; the blinking, photon and camera streams
// of the simulator use other purposes, so structures never share numbers with them.
//
// Models:
//  uniform      a homogeneous Poisson point process: N ~ Poisson(density · area), positions i.i.d.
//               uniform over the field.
//  filaments    2D worm-like chains (Kratky–Porod) traced in steps of step_nm with tangent angle
//               θ_{k+1} = θ_k + N(0, step_nm / persistence_nm), so ⟨cos(θ(s) − θ(0))⟩ =
//               exp(−s / (2 · persistence_nm)) (the 2D result; Rivetti et al., J. Mol. Biol. 264
//               (1996) 919). Labels form a Poisson process along the arc at labels_per_um, each
//               displaced perpendicular to the local tangent by N(0, label_sd_nm²): the spread of
//               antibody labels around a microtubule (≈ 25 nm tube plus ≈ 10 nm antibodies).
//               Chains start uniformly in the field with a uniform direction; labels falling
//               outside the field are dropped (the chain itself may leave and re-enter).
//  rings        circles (nuclear-pore-like) of radius N(radius_nm, radius_sd_nm²) with centres
//               uniform in the part of the field where the whole ring fits; labels_per_ring labels
//               at i.i.d. uniform angles, each displaced by isotropic N(0, label_sd_nm²).
//  stripes      pairs of lines parallel to y, one pair per entry of separations_nm, the pairs
//               centred at (k + ½)·width_nm / K; along each line labels form a Poisson process at
//               labels_per_um with x displaced by N(0, label_sd_nm²) (a resolution target).
//  density mask an inhomogeneous Poisson process whose intensity is proportional to a
//               non-negative image stretched over the field: N ~ Poisson(density · area), each label
//               in mask pixel p with probability mask(p) / Σ mask, uniform inside it. density is
//               therefore the mean over the field; at mask pixel p it is density · mask(p) / mean.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <vector>

#include <smlm/core/distributions.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/core/status.hpp>

namespace smlm::sim {

/// One label (fluorophore) position, nanometres; z_nm is relative to focus (0 for 2D).
struct Position {
  double x_nm = 0;
  double y_nm = 0;
  double z_nm = 0;
};

/// The field of view: [0, width_nm) × [0, height_nm).
struct Field {
  double width_nm = 6400;
  double height_nm = 6400;

  double area_um2() const noexcept { return width_nm * height_nm * 1e-6; }
  bool contains(double x_nm, double y_nm) const noexcept {
    return x_nm >= 0 && x_nm < width_nm && y_nm >= 0 && y_nm < height_nm;
  }
};

struct UniformParams {
  double density_per_um2 = 1;  ///< expected labels per µm², ≥ 0
};

struct FilamentParams {
  int count = 5;                  ///< number of chains, ≥ 0
  double length_nm = 10000;       ///< contour length of each chain, > 0
  double persistence_nm = 5000;   ///< persistence length, > 0 (apparent value in cells: µm)
  double step_nm = 10;            ///< tracing step, > 0 (the curve is a polyline of this step)
  double labels_per_um = 50;      ///< labels per µm of contour, ≥ 0
  double label_sd_nm = 8;         ///< perpendicular label displacement, sd, ≥ 0
};

struct RingParams {
  int count = 10;            ///< number of rings, ≥ 0
  double radius_nm = 60;     ///< mean radius, > 0
  double radius_sd_nm = 0;   ///< ring-to-ring radius spread, ≥ 0
  int labels_per_ring = 8;   ///< ≥ 0
  double label_sd_nm = 0;    ///< isotropic label displacement, sd, ≥ 0
};

struct StripeParams {
  std::vector<double> separations_nm{50, 100, 150, 200, 300};  ///< one line pair each, > 0
  double labels_per_um = 50;  ///< labels per µm of line, ≥ 0
  double label_sd_nm = 0;     ///< lateral (x) displacement, sd, ≥ 0
};

namespace detail {

inline bool finite_nonnegative(double v) noexcept { return v >= 0 && std::isfinite(v); }
inline bool finite_positive(double v) noexcept { return v > 0 && std::isfinite(v); }

inline Status check_field(const Field& field, const char* who) {
  if (!finite_positive(field.width_nm) || !finite_positive(field.height_nm))
    return make_error(errc::invalid_argument, who, ": field ", field.width_nm, " x ", field.height_nm,
                      " nm must have finite positive sides");
  return {};
}

/// Largest Poisson mean the generators accept (10^9 labels would not fit in memory anyway).
inline constexpr double max_expected_labels = 1e9;

inline Status check_expected(double expected, const char* who) {
  if (!(expected <= max_expected_labels))
    return make_error(errc::out_of_range, who, ": ", expected, " expected labels exceed the limit of ",
                      max_expected_labels);
  return {};
}

inline Philox4x32 structure_engine(std::uint64_t seed, std::uint32_t instance) noexcept {
  return Philox4x32(seed, instance, rng_purpose::emitters);
}

}  // namespace detail

/// Homogeneous Poisson process over the field (see the header).
inline Status uniform(const Field& field, const UniformParams& p, std::uint64_t seed, std::vector<Position>& out,
                      std::uint32_t instance = 0) {
  SMLM_TRY(detail::check_field(field, "sim::uniform"));
  if (!detail::finite_nonnegative(p.density_per_um2))
    return make_error(errc::invalid_argument, "sim::uniform: density_per_um2 = ", p.density_per_um2,
                      " must be finite and >= 0");
  const double expected = p.density_per_um2 * field.area_um2();
  SMLM_TRY(detail::check_expected(expected, "sim::uniform"));
  Philox4x32 rng = detail::structure_engine(seed, instance);
  const std::int64_t n = poisson<double>(rng, expected);
  out.reserve(out.size() + static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = uniform01<double>(rng) * field.width_nm;
    const double y = uniform01<double>(rng) * field.height_nm;
    out.push_back({std::min(x, std::nextafter(field.width_nm, 0.0)), std::min(y, std::nextafter(field.height_nm, 0.0)), 0});
  }
  return {};
}

/// Worm-like chains with labels along them (see the header).
inline Status filaments(const Field& field, const FilamentParams& p, std::uint64_t seed, std::vector<Position>& out,
                        std::uint32_t instance = 0) {
  SMLM_TRY(detail::check_field(field, "sim::filaments"));
  if (p.count < 0) return make_error(errc::invalid_argument, "sim::filaments: count = ", p.count, " must be >= 0");
  if (!detail::finite_positive(p.length_nm))
    return make_error(errc::invalid_argument, "sim::filaments: length_nm = ", p.length_nm, " must be finite and > 0");
  if (!detail::finite_positive(p.persistence_nm))
    return make_error(errc::invalid_argument, "sim::filaments: persistence_nm = ", p.persistence_nm,
                      " must be finite and > 0");
  if (!detail::finite_positive(p.step_nm) || p.step_nm > p.length_nm)
    return make_error(errc::invalid_argument, "sim::filaments: step_nm = ", p.step_nm,
                      " must be finite, > 0 and <= length_nm");
  if (!detail::finite_nonnegative(p.labels_per_um))
    return make_error(errc::invalid_argument, "sim::filaments: labels_per_um = ", p.labels_per_um,
                      " must be finite and >= 0");
  if (!detail::finite_nonnegative(p.label_sd_nm))
    return make_error(errc::invalid_argument, "sim::filaments: label_sd_nm = ", p.label_sd_nm,
                      " must be finite and >= 0");
  SMLM_TRY(detail::check_expected(p.count * p.length_nm * 1e-3 * p.labels_per_um, "sim::filaments"));
  if (p.length_nm / p.step_nm > detail::max_expected_labels)
    return make_error(errc::out_of_range, "sim::filaments: length_nm / step_nm = ", p.length_nm / p.step_nm,
                      " steps exceed the limit");
  Philox4x32 rng = detail::structure_engine(seed, instance);
  const double angle_sd = std::sqrt(p.step_nm / p.persistence_nm);
  const double rate_per_nm = p.labels_per_um * 1e-3;
  for (int c = 0; c < p.count; ++c) {
    double x = uniform01<double>(rng) * field.width_nm;
    double y = uniform01<double>(rng) * field.height_nm;
    double theta = 2 * std::numbers::pi * uniform01<double>(rng);
    // Labels: arc positions of a Poisson process, the next one `next_label` nm along the chain.
    double next_label = rate_per_nm > 0 ? exponential<double>(rng) / rate_per_nm : 2 * p.length_nm;
    double s = 0;
    while (s < p.length_nm) {
      const double ds = std::min(p.step_nm, p.length_nm - s);
      const double tx = std::cos(theta), ty = std::sin(theta);
      while (next_label < s + ds) {
        const double along = next_label - s, off = p.label_sd_nm > 0 ? p.label_sd_nm * normal<double>(rng) : 0.0;
        const double lx = x + along * tx - off * ty, ly = y + along * ty + off * tx;
        if (field.contains(lx, ly)) out.push_back({lx, ly, 0});
        next_label += exponential<double>(rng) / rate_per_nm;
      }
      x += ds * tx;
      y += ds * ty;
      s += ds;
      theta += angle_sd * normal<double>(rng);
    }
  }
  return {};
}

/// Rings of labels (see the header).
inline Status rings(const Field& field, const RingParams& p, std::uint64_t seed, std::vector<Position>& out,
                    std::uint32_t instance = 0) {
  SMLM_TRY(detail::check_field(field, "sim::rings"));
  if (p.count < 0) return make_error(errc::invalid_argument, "sim::rings: count = ", p.count, " must be >= 0");
  if (!detail::finite_positive(p.radius_nm))
    return make_error(errc::invalid_argument, "sim::rings: radius_nm = ", p.radius_nm, " must be finite and > 0");
  if (!detail::finite_nonnegative(p.radius_sd_nm))
    return make_error(errc::invalid_argument, "sim::rings: radius_sd_nm = ", p.radius_sd_nm, " must be finite and >= 0");
  if (p.labels_per_ring < 0)
    return make_error(errc::invalid_argument, "sim::rings: labels_per_ring = ", p.labels_per_ring, " must be >= 0");
  if (!detail::finite_nonnegative(p.label_sd_nm))
    return make_error(errc::invalid_argument, "sim::rings: label_sd_nm = ", p.label_sd_nm, " must be finite and >= 0");
  // Centres keep the ring plus 3 sd of radius and label spread inside the field.
  const double margin = p.radius_nm + 3 * (p.radius_sd_nm + p.label_sd_nm);
  if (2 * margin >= std::min(field.width_nm, field.height_nm))
    return make_error(errc::invalid_argument, "sim::rings: radius_nm = ", p.radius_nm,
                      " (with its spreads) does not fit in the field of ", field.width_nm, " x ", field.height_nm, " nm");
  Philox4x32 rng = detail::structure_engine(seed, instance);
  out.reserve(out.size() + static_cast<std::size_t>(p.count) * static_cast<std::size_t>(p.labels_per_ring));
  for (int c = 0; c < p.count; ++c) {
    const double cx = margin + uniform01<double>(rng) * (field.width_nm - 2 * margin);
    const double cy = margin + uniform01<double>(rng) * (field.height_nm - 2 * margin);
    const double r = std::max(0.0, p.radius_nm + p.radius_sd_nm * normal<double>(rng));
    for (int k = 0; k < p.labels_per_ring; ++k) {
      const double phi = 2 * std::numbers::pi * uniform01<double>(rng);
      double lx = cx + r * std::cos(phi), ly = cy + r * std::sin(phi);
      if (p.label_sd_nm > 0) {
        lx += p.label_sd_nm * normal<double>(rng);
        ly += p.label_sd_nm * normal<double>(rng);
      }
      if (field.contains(lx, ly)) out.push_back({lx, ly, 0});
    }
  }
  return {};
}

/// x positions (nm) of the two lines of pair k of K in a field `width_nm` wide.
inline std::pair<double, double> stripe_pair_x_nm(double width_nm, std::size_t k, std::size_t pairs,
                                                   double separation_nm) noexcept {
  const double centre = (static_cast<double>(k) + 0.5) * width_nm / static_cast<double>(pairs);
  return {centre - 0.5 * separation_nm, centre + 0.5 * separation_nm};
}

/// Line pairs at the given separations (see the header).
inline Status stripes(const Field& field, const StripeParams& p, std::uint64_t seed, std::vector<Position>& out,
                      std::uint32_t instance = 0) {
  SMLM_TRY(detail::check_field(field, "sim::stripes"));
  const std::size_t pairs = p.separations_nm.size();
  for (std::size_t k = 0; k < pairs; ++k) {
    const double s = p.separations_nm[k];
    if (!detail::finite_positive(s) || s >= field.width_nm / static_cast<double>(pairs))
      return make_error(errc::invalid_argument, "sim::stripes: separations_nm[", k, "] = ", s,
                        " must be > 0 and below the pair pitch of ", field.width_nm / static_cast<double>(pairs), " nm");
  }
  if (!detail::finite_nonnegative(p.labels_per_um))
    return make_error(errc::invalid_argument, "sim::stripes: labels_per_um = ", p.labels_per_um, " must be finite and >= 0");
  if (!detail::finite_nonnegative(p.label_sd_nm))
    return make_error(errc::invalid_argument, "sim::stripes: label_sd_nm = ", p.label_sd_nm, " must be finite and >= 0");
  const double expected = p.labels_per_um * field.height_nm * 1e-3;
  SMLM_TRY(detail::check_expected(expected * 2 * static_cast<double>(pairs), "sim::stripes"));
  Philox4x32 rng = detail::structure_engine(seed, instance);
  for (std::size_t k = 0; k < pairs; ++k) {
    const auto [left, right] = stripe_pair_x_nm(field.width_nm, k, pairs, p.separations_nm[k]);
    for (const double line : {left, right}) {
      const std::int64_t n = poisson<double>(rng, expected);
      for (std::int64_t i = 0; i < n; ++i) {
        const double y = uniform01<double>(rng) * field.height_nm;
        const double x = line + (p.label_sd_nm > 0 ? p.label_sd_nm * normal<double>(rng) : 0.0);
        if (field.contains(x, y)) out.push_back({x, y, 0});
      }
    }
  }
  return {};
}

/// Inhomogeneous Poisson process with intensity ∝ `mask` stretched over the field (see the
/// header); density_per_um2 is the mean density over the field.
template <class T>
Status density_mask(const Field& field, ConstImageView<T> mask, double density_per_um2, std::uint64_t seed,
                    std::vector<Position>& out, std::uint32_t instance = 0) {
  SMLM_TRY(detail::check_field(field, "sim::density_mask"));
  if (mask.rows() < 1 || mask.cols() < 1)
    return make_error(errc::invalid_argument, "sim::density_mask: mask is empty (", mask.rows(), " x ", mask.cols(), ")");
  if (!detail::finite_nonnegative(density_per_um2))
    return make_error(errc::invalid_argument, "sim::density_mask: density_per_um2 = ", density_per_um2,
                      " must be finite and >= 0");
  // Cumulative weights in row-major order (setup: one vector of the mask's size).
  std::vector<double> cumulative(static_cast<std::size_t>(mask.size()));
  double total = 0;
  for (Eigen::Index y = 0; y < mask.rows(); ++y) {
    for (Eigen::Index x = 0; x < mask.cols(); ++x) {
      const double w = static_cast<double>(mask(y, x));
      if (!detail::finite_nonnegative(w))
        return make_error(errc::invalid_argument, "sim::density_mask: mask(", y, ", ", x, ") = ", w,
                          " must be finite and >= 0");
      total += w;
      cumulative[static_cast<std::size_t>(y * mask.cols() + x)] = total;
    }
  }
  if (!(total > 0)) return make_error(errc::invalid_argument, "sim::density_mask: mask is zero everywhere");
  const double expected = density_per_um2 * field.area_um2();
  SMLM_TRY(detail::check_expected(expected, "sim::density_mask"));
  Philox4x32 rng = detail::structure_engine(seed, instance);
  const std::int64_t n = poisson<double>(rng, expected);
  const double cell_w = field.width_nm / static_cast<double>(mask.cols());
  const double cell_h = field.height_nm / static_cast<double>(mask.rows());
  out.reserve(out.size() + static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double u = uniform01<double>(rng) * total;
    // First cell whose cumulative weight exceeds u: never a zero-weight cell.
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    const auto cell = static_cast<Eigen::Index>(std::min<std::ptrdiff_t>(it - cumulative.begin(), mask.size() - 1));
    const Eigen::Index cy = cell / mask.cols(), cx = cell % mask.cols();
    const double x = (static_cast<double>(cx) + uniform01<double>(rng)) * cell_w;
    const double y = (static_cast<double>(cy) + uniform01<double>(rng)) * cell_h;
    out.push_back({std::min(x, std::nextafter(field.width_nm, 0.0)), std::min(y, std::nextafter(field.height_nm, 0.0)), 0});
  }
  return {};
}

}  // namespace smlm::sim
