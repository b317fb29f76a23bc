// LocalizationTable: a struct of arrays with ThunderSTORM's columns.
//
// Public tables use nanometres and 1-based frames (DESIGN.md): x_nm / pixel_nm is the continuous
// pixel coordinate in which pixel i spans [i, i+1). Optional columns are present when their
// vector has one entry per row and absent when it is empty; `frame`, `x_nm` and `y_nm` are
// always present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <smlm/core/config.hpp>
#include <smlm/core/emitter.hpp>

namespace smlm {

struct LocalizationTable {
  std::vector<std::int64_t> id;
  std::vector<std::int32_t> frame;  ///< 1-based
  std::vector<double> x_nm;
  std::vector<double> y_nm;
  std::vector<double> z_nm;
  std::vector<double> sigma_nm;
  std::vector<double> intensity_photons;
  std::vector<double> offset_photons;
  std::vector<double> bkgstd_photons;
  std::vector<double> uncertainty_xy_nm;

  std::size_t size() const noexcept { return x_nm.size(); }
  bool empty() const noexcept { return x_nm.empty(); }

  /// Calls f(name, column) for each floating-point column in ThunderSTORM's order.
  template <class F>
  void for_each_real_column(F&& f) {
    f("x [nm]", x_nm);
    f("y [nm]", y_nm);
    f("z [nm]", z_nm);
    f("sigma [nm]", sigma_nm);
    f("intensity [photon]", intensity_photons);
    f("offset [photon]", offset_photons);
    f("bkgstd [photon]", bkgstd_photons);
    f("uncertainty_xy [nm]", uncertainty_xy_nm);
  }
  template <class F>
  void for_each_real_column(F&& f) const {
    const_cast<LocalizationTable&>(*this).for_each_real_column(
        [&](std::string_view name, const std::vector<double>& column) { f(name, column); });
  }

  /// True when every present column has size() entries and the required ones are present.
  bool consistent() const noexcept {
    const std::size_t n = size();
    bool ok = y_nm.size() == n && frame.size() == n && (id.empty() || id.size() == n);
    for_each_real_column([&](std::string_view, const std::vector<double>& c) {
      ok = ok && (c.empty() || c.size() == n);
    });
    return ok;
  }

  void reserve(std::size_t n) {
    id.reserve(n);
    frame.reserve(n);
    for_each_real_column([&](std::string_view, std::vector<double>& c) { c.reserve(n); });
  }

  /// Appends an emitter (pixels → nanometres); fills id, frame, x, y, z and intensity, which
  /// therefore must be the only columns in use.
  template <class T>
  void push_back(const Emitter<T>& e, double pixel_nm) {
    SMLM_ASSERT(sigma_nm.empty() && offset_photons.empty() && bkgstd_photons.empty() &&
                    uncertainty_xy_nm.empty(),
                "LocalizationTable::push_back(Emitter) would leave other columns short");
    id.push_back(e.id);
    frame.push_back(e.frame);
    x_nm.push_back(static_cast<double>(e.x_px) * pixel_nm);
    y_nm.push_back(static_cast<double>(e.y_px) * pixel_nm);
    z_nm.push_back(static_cast<double>(e.z_nm));
    intensity_photons.push_back(static_cast<double>(e.photons));
  }

  /// Row i as an Emitter in pixel coordinates (absent columns read as 0).
  template <class T = double>
  Emitter<T> emitter(std::size_t i, double pixel_nm) const SMLM_NOEXCEPT {
    SMLM_ASSERT(i < size(), "LocalizationTable::emitter index out of range");
    Emitter<T> e;
    e.x_px = static_cast<T>(x_nm[i] / pixel_nm);
    e.y_px = static_cast<T>(y_nm[i] / pixel_nm);
    e.z_nm = z_nm.empty() ? T(0) : static_cast<T>(z_nm[i]);
    e.photons = intensity_photons.empty() ? T(0) : static_cast<T>(intensity_photons[i]);
    e.frame = frame[i];
    e.id = id.empty() ? 0 : id[i];
    return e;
  }
};

}  // namespace smlm
