// Pupil-function PSF by scalar Fourier optics: the image of a point is |F{P}|², the squared
// modulus of the Fourier transform of the pupil function (Goodman, Introduction to Fourier
// Optics, 3rd ed., §6.2), here
//   P(f) = A(f) · exp(i [ (2π/λ) W(ρ, θ) + φ_z(f) ]),   |f| ≤ NA/λ   (f: spatial frequency, 1/nm)
// with
//   A       uniform amplitude over the disc |f| ≤ NA/λ (no apodisation, no vectorial effects, no
//           refractive-index mismatch: a scalar model, good to a few % at the highest NA);
//           pupil cells cut by the rim get the fraction of their area inside it, so the disc is
//           not a staircase;
//   W       the wavefront aberration, nm: Σ_j a_j Z_j(ρ, θ) with Noll-normalised Zernike
//           polynomials (zernike.hpp), a_j the RMS of term j in nm, ρ = λ|f|/NA, θ = atan2(fy, fx);
//   φ_z     the angular-spectrum defocus of an emitter z nm from the focal plane in a medium of
//           index n: φ_z(f) = (2π/λ) z (√(n² − (λ|f|)²) − n) (the exact scalar propagation phase,
//           not its paraxial ρ² approximation; the constant −n only removes a piston).
// Sign convention (tested): with Noll 6 (vertical astigmatism, cos 2θ) positive, the spot is
// elongated along y for z > 0 and along x for z < 0; Noll 5 positive elongates it along x = −y
// for z > 0 and along x = y for z < 0.
//
// Sampling. The intensity is sampled every dx = pixel_nm / oversampling in the sample plane on an
// N × N periodic grid (N = fft_size), so the pupil is sampled every 1/(N dx) in frequency and its
// radius spans NA N dx / λ cells. The intensity's spectrum reaches 2 NA/λ, so the sampling is free
// of aliasing when dx ≤ λ/(4 NA) (create() rejects coarser sampling), and the periodic grid's
// wrap-around is what limits the far tail (N ≥ 2 × the table's width by default).
// Pixel integration is exact for the sampled band-limited intensity: its spectrum (the OTF) is
// multiplied by the pixel's transfer function sinc(π fx p) sinc(π fy p), p = pixel_nm, and
// transformed back, so each sample is the intensity integrated over a pixel centred there.
// Normalisation: Parseval gives Σ_x |F{P}|² = N² Σ_f |P|² (Eigen's forward FFT is unscaled),
// a z-independent total; the table handed to Tabulated is normalised per plane there.
//
// The model. make_pupil_psf computes one such plane per z, cut to ±half_width_px pixels, and
// builds a psf::Tabulated from it: one interpolation and differentiation code path (tabulated.hpp
// documents its C² cubic B-spline, its accuracy and its z range). Computing the table allocates
// and runs 3 two-dimensional FFTs per plane (Eigen's unsupported FFT module, kissfft inside): an
// edge operation, done once; rendering and derivatives are then the Tabulated kernels.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there

#include <algorithm>
#include <cmath>
#include <complex>
#include <concepts>
#include <cstddef>
#include <numbers>
#include <vector>

#include <unsupported/Eigen/FFT>

#include <smlm/core/image.hpp>
#include <smlm/core/status.hpp>
#include <smlm/psf/tabulated.hpp>
#include <smlm/psf/zernike.hpp>

namespace smlm::psf {

/// One aberration term: Noll index (≥ 1) and RMS wavefront in nm.
struct ZernikeTerm {
  int noll = 1;
  double rms_nm = 0;
};

/// Optics and sampling of a pupil-function PSF (see the header for the conventions).
struct PupilOptics {
  double na = 1.4;                 ///< numerical aperture (< refractive_index)
  double wavelength_nm = 680;      ///< emission wavelength in vacuum, nm
  double refractive_index = 1.518; ///< immersion / sample medium (defocus phase)
  double pixel_nm = 100;           ///< camera pixel in the sample plane, nm
  std::vector<ZernikeTerm> aberrations;
  int oversampling = 4;              ///< table samples per pixel (dx = pixel_nm / oversampling)
  std::ptrdiff_t half_width_px = 10; ///< the table covers ±half_width_px pixels of offset
  std::ptrdiff_t planes = 1;         ///< z planes (1: in focus only, for the 2D model)
  double z_first_nm = 0;             ///< z of the first plane, nm
  double z_step_nm = 0;              ///< plane spacing, nm (> 0 when planes > 1)
  double taper_px = 2;  ///< the table's outer band tapered to zero by sin², pixels (≥ 0)
  int fft_size = 0;  ///< N; 0 picks the smallest power of two with N ≥ 2 × table width and a
                     ///< pupil radius of at least 32 cells (at most 4096)
};

/// The Fourier-optics computation behind make_pupil_psf, exposed for inspection and tests.
class PupilImager {
 public:
  using complex = std::complex<double>;

  /// Validates `optics` (each error names the field and its value) and precomputes the pupil's
  /// amplitude, aberration phase and defocus kernel.
  static Expected<PupilImager> create(const PupilOptics& optics) {
    const PupilOptics& o = optics;
    const auto bad = [](const char* field, double value, const char* why) {
      return make_error(errc::invalid_argument, "psf::PupilOptics: ", field, " ", value, " ", why);
    };
    if (!(o.wavelength_nm > 0) || !std::isfinite(o.wavelength_nm))
      return bad("wavelength_nm", o.wavelength_nm, "must be a positive number");
    if (!(o.pixel_nm > 0) || !std::isfinite(o.pixel_nm))
      return bad("pixel_nm", o.pixel_nm, "must be a positive number");
    if (!(o.refractive_index >= 1) || !std::isfinite(o.refractive_index))
      return bad("refractive_index", o.refractive_index, "must be a number ≥ 1");
    if (!(o.na > 0) || !(o.na < o.refractive_index))
      return make_error(errc::invalid_argument, "psf::PupilOptics: na ", o.na,
                        " must be positive and below refractive_index ", o.refractive_index);
    if (o.oversampling < 1 || o.oversampling > 64)
      return bad("oversampling", o.oversampling, "must be between 1 and 64");
    if (o.half_width_px < 1 || o.half_width_px > 1000)
      return bad("half_width_px", double(o.half_width_px), "must be between 1 and 1000");
    if (!(o.taper_px >= 0) || !(o.taper_px <= double(o.half_width_px)))
      return make_error(errc::invalid_argument, "psf::PupilOptics: taper_px ", o.taper_px,
                        " must be between 0 and half_width_px (", o.half_width_px, ")");
    if (o.planes < 1 || o.planes > 10000) return bad("planes", double(o.planes), "must be between 1 and 10000");
    if (!std::isfinite(o.z_first_nm)) return bad("z_first_nm", o.z_first_nm, "is not finite");
    if (o.planes > 1 && (!(o.z_step_nm > 0) || !std::isfinite(o.z_step_nm)))
      return bad("z_step_nm", o.z_step_nm, "must be a positive number when planes > 1");
    for (std::size_t i = 0; i < o.aberrations.size(); ++i) {
      if (o.aberrations[i].noll < 1 || o.aberrations[i].noll > 231)
        return make_error(errc::invalid_argument, "psf::PupilOptics: aberrations[", i,
                          "].noll ", o.aberrations[i].noll, " must be between 1 and 231");
      if (!std::isfinite(o.aberrations[i].rms_nm))
        return make_error(errc::invalid_argument, "psf::PupilOptics: aberrations[", i,
                          "].rms_nm ", o.aberrations[i].rms_nm, " is not finite");
    }
    const double dx = o.pixel_nm / o.oversampling;
    const double nyquist = o.wavelength_nm / (4 * o.na);
    if (dx > nyquist)
      return make_error(errc::invalid_argument, "psf::PupilOptics: oversampling ", o.oversampling,
                        " samples every ", dx, " nm, coarser than λ/(4 NA) = ", nyquist,
                        " nm: the intensity would alias; raise oversampling");
    const std::ptrdiff_t width = 2 * o.half_width_px * o.oversampling + 1;
    int n = o.fft_size;
    if (n == 0) {
      n = 64;
      while (n < 2 * width || o.na * n * dx / o.wavelength_nm < 32) n *= 2;
      if (n > 4096)
        return make_error(errc::invalid_argument, "psf::PupilOptics: the table needs an FFT of ",
                          n, " > 4096 points; lower oversampling (", o.oversampling,
                          ") or half_width_px (", o.half_width_px, ")");
    } else {
      if (n < width || n > 8192)
        return make_error(errc::invalid_argument, "psf::PupilOptics: fft_size ", n,
                          " must hold the table's width ", width, " and be at most 8192");
      if (o.na * n * dx / o.wavelength_nm < 8)
        return make_error(errc::invalid_argument, "psf::PupilOptics: fft_size ", n,
                          " samples the pupil radius with ", o.na * n * dx / o.wavelength_nm,
                          " cells; at least 8 are needed");
    }
    return PupilImager(o, n);
  }

  int fft_size() const noexcept { return n_; }
  double sample_nm() const noexcept { return dx_; }
  double pupil_radius_cells() const noexcept { return radius_cells_; }
  const PupilOptics& optics() const noexcept { return optics_; }

  /// The pupil function at defocus z, N × N, frequency (0, 0) at element (N/2, N/2), fx along
  /// columns.
  Image<complex> pupil(double z_nm) const {
    std::vector<complex> p = pupil_unshifted(z_nm);
    return centred(p);
  }
  /// |F{P}|² at defocus z: N × N samples dx apart, the emitter at element (N/2, N/2); not
  /// normalised (Σ = N² Σ|P|²).
  Image<double> intensity(double z_nm) const {
    std::vector<complex> field = pupil_unshifted(z_nm);
    fft2(field, false);
    for (auto& v : field) v = std::norm(v);
    return real_centred(field);
  }
  /// The intensity integrated over a pixel centred at each sample (same layout and total).
  Image<double> pixel_integrated(double z_nm) const {
    std::vector<complex> f = pixel_integrated_unshifted(z_nm);
    return real_centred(f);
  }

  /// The table of every plane, ±half_width_px pixels (negative rounding residue set to 0). The
  /// outer taper_px of each side is multiplied by sin²(π e / (2 taper_px)), e the distance from
  /// the edge in pixels: a hard cut through a tail that is not yet zero makes the sum over the
  /// pixel lattice depend on the sub-pixel position (0.4 % for a spot 400 nm out of focus, cut at
  /// ±10 px); the smooth cut keeps it at the spline's integral.
  PsfTable table() const {
    const std::ptrdiff_t s = optics_.oversampling;
    PsfTable t;
    t.planes = optics_.planes;
    t.width = t.height = 2 * optics_.half_width_px * s + 1;
    t.oversampling = optics_.oversampling;
    t.z_first_nm = optics_.z_first_nm;
    t.z_step_nm = optics_.z_step_nm;
    const std::ptrdiff_t w = t.width, c = (w - 1) / 2;
    std::vector<double> taper(static_cast<std::size_t>(w), 1.0);
    for (std::ptrdiff_t b = 0; b < w; ++b) {
      const double e = double(std::min(b, w - 1 - b)) / double(s);
      if (e < optics_.taper_px) {
        const double q = std::sin(0.5 * std::numbers::pi * e / optics_.taper_px);
        taper[static_cast<std::size_t>(b)] = q * q;
      }
    }
    t.values.resize(static_cast<std::size_t>(t.planes * w * w));
    for (std::ptrdiff_t k = 0; k < t.planes; ++k) {
      const std::vector<complex> f =
          pixel_integrated_unshifted(optics_.z_first_nm + double(k) * optics_.z_step_nm);
      for (std::ptrdiff_t a = 0; a < w; ++a) {
        const std::ptrdiff_t row = wrap(a - c);
        for (std::ptrdiff_t b = 0; b < w; ++b) {
          const double v = f[static_cast<std::size_t>(row * n_ + wrap(b - c))].real() *
                           taper[static_cast<std::size_t>(a)] * taper[static_cast<std::size_t>(b)];
          t.values[static_cast<std::size_t>((k * w + a) * w + b)] = v > 0 ? v : 0.0;
        }
      }
    }
    return t;
  }

 private:
  PupilImager(const PupilOptics& o, int n) : optics_(o), n_(n), dx_(o.pixel_nm / o.oversampling) {
    const double df = 1.0 / (double(n_) * dx_);  // pupil cell, 1/nm
    const double fc = o.na / o.wavelength_nm;
    radius_cells_ = fc / df;
    const std::size_t size = static_cast<std::size_t>(n_) * static_cast<std::size_t>(n_);
    amplitude_.assign(size, 0.0);
    aberration_.assign(size, 0.0);
    defocus_.assign(size, 0.0);
    const double k0 = 2 * std::numbers::pi / o.wavelength_nm;
    const double r = radius_cells_;
    for (std::ptrdiff_t p = 0; p < n_; ++p) {
      const double fy = double(signed_index(p));
      for (std::ptrdiff_t q = 0; q < n_; ++q) {
        const double fx = double(signed_index(q));
        const double near_x = std::max(std::abs(fx) - 0.5, 0.0), near_y = std::max(std::abs(fy) - 0.5, 0.0);
        if (near_x * near_x + near_y * near_y >= r * r) continue;
        const double far_x = std::abs(fx) + 0.5, far_y = std::abs(fy) + 0.5;
        double a = 1;
        if (far_x * far_x + far_y * far_y > r * r) {  // the rim crosses this cell: its area inside
          constexpr int m = 16;
          int inside = 0;
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < m; ++j) {
              const double u = fx - 0.5 + (j + 0.5) / m, v = fy - 0.5 + (i + 0.5) / m;
              inside += u * u + v * v <= r * r;
            }
          }
          a = double(inside) / (m * m);
        }
        const std::size_t at = static_cast<std::size_t>(p * n_ + q);
        amplitude_[at] = a;
        const double rho = std::min(std::sqrt(fx * fx + fy * fy) / r, 1.0);
        const double theta = std::atan2(fy, fx);
        double w = 0;
        for (const ZernikeTerm& term : o.aberrations) w += term.rms_nm * zernike(term.noll, rho, theta);
        aberration_[at] = k0 * w;
        const double sin_n = rho * o.na;  // λ|f| = n sin θ
        defocus_[at] = k0 * (std::sqrt(o.refractive_index * o.refractive_index - sin_n * sin_n) -
                             o.refractive_index);
      }
    }
  }

  std::ptrdiff_t signed_index(std::ptrdiff_t k) const noexcept { return k < n_ / 2 ? k : k - n_; }
  std::ptrdiff_t wrap(std::ptrdiff_t k) const noexcept { return ((k % n_) + n_) % n_; }

  std::vector<complex> pupil_unshifted(double z_nm) const {
    std::vector<complex> p(amplitude_.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (amplitude_[i] == 0) continue;
      p[i] = std::polar(amplitude_[i], aberration_[i] + z_nm * defocus_[i]);
    }
    return p;
  }

  std::vector<complex> pixel_integrated_unshifted(double z_nm) const {
    std::vector<complex> f = pupil_unshifted(z_nm);
    fft2(f, false);
    for (auto& v : f) v = std::norm(v);
    fft2(f, true);  // the OTF (scaled by 1/N²)
    std::vector<double> h(static_cast<std::size_t>(n_));
    const double s = double(optics_.oversampling);
    for (std::ptrdiff_t k = 0; k < n_; ++k) {
      const double a = std::numbers::pi * double(signed_index(k)) * s / double(n_);
      h[static_cast<std::size_t>(k)] = a == 0 ? 1.0 : std::sin(a) / a;
    }
    for (std::ptrdiff_t p = 0; p < n_; ++p)
      for (std::ptrdiff_t q = 0; q < n_; ++q)
        f[static_cast<std::size_t>(p * n_ + q)] *= h[static_cast<std::size_t>(p)] * h[static_cast<std::size_t>(q)];
    fft2(f, false);
    return f;
  }

  /// In-place 2D FFT of an N × N row-major array: forward unscaled, inverse scaled by 1/N².
  void fft2(std::vector<complex>& a, bool inverse) const {
    Eigen::FFT<double> fft;
    std::vector<complex> in(static_cast<std::size_t>(n_)), out(static_cast<std::size_t>(n_));
    for (int pass = 0; pass < 2; ++pass) {
      const std::ptrdiff_t step = pass == 0 ? 1 : n_, next = pass == 0 ? n_ : 1;
      for (std::ptrdiff_t line = 0; line < n_; ++line) {
        complex* base = a.data() + line * next;
        bool zero = true;
        for (std::ptrdiff_t k = 0; k < n_; ++k) {
          in[static_cast<std::size_t>(k)] = base[k * step];
          zero = zero && base[k * step] == complex(0, 0);
        }
        if (zero) continue;  // most pupil rows lie outside the disc
        if (inverse) {
          fft.inv(out.data(), in.data(), n_);
        } else {
          fft.fwd(out.data(), in.data(), n_);
        }
        for (std::ptrdiff_t k = 0; k < n_; ++k) base[k * step] = out[static_cast<std::size_t>(k)];
      }
    }
  }

  Image<complex> centred(const std::vector<complex>& a) const {
    Image<complex> out(n_, n_);
    for (std::ptrdiff_t p = 0; p < n_; ++p)
      for (std::ptrdiff_t q = 0; q < n_; ++q)
        out(wrap(p + n_ / 2), wrap(q + n_ / 2)) = a[static_cast<std::size_t>(p * n_ + q)];
    return out;
  }
  Image<double> real_centred(const std::vector<complex>& a) const { return centred(a).real(); }

  PupilOptics optics_;
  int n_ = 0;
  double dx_ = 0;
  double radius_cells_ = 0;
  std::vector<double> amplitude_, aberration_, defocus_;
};

/// The pupil-function PSF as a Tabulated model (HasZ = false needs optics.planes == 1).
template <std::floating_point T = double, bool HasZ = true>
Expected<Tabulated<T, HasZ>> make_pupil_psf(const PupilOptics& optics) {
  auto imager = PupilImager::create(optics);
  if (!imager) return imager.status();
  return Tabulated<T, HasZ>::from_table(imager->table());
}

}  // namespace smlm::psf
