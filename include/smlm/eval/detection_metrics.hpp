// Detection and localization metrics of a Matching (eval/match.hpp): the numbers the field
// publishes (SMLM challenge 2013 and 2016: Sage et al., Nat. Methods 12, 717 (2015) and 16, 387
// (2019); ThunderSTORM's performance evaluation).
//
// With TP = matched pairs, FP = localizations left unpaired, FN = ground-truth rows left unpaired:
//
//     precision = TP / (TP + FP)          recall = TP / (TP + FN)
//     F1        = 2 TP / (2 TP + FP + FN)  Jaccard J = TP / (TP + FP + FN)
//     RMSE_lateral = √( Σ (dx² + dy²) / TP )     (a true root-mean-square over the pairs;
//                                                 note it is √2 × the per-axis RMSE)
//     RMSE_axial   = √( Σ dz² / TP )              (when both tables have z)
//     bias_x = Σ dx / TP, bias_y, bias_z likewise  (d = localization − ground truth)
//     efficiency E = 100 − √( (100 (1 − J))² + (α · RMSE_lateral)² ),  α = 1 nm⁻¹
//
// E is the SMLM 2016 challenge's combined score (Sage et al. 2019): 100 for a perfect result, it
// falls by one point per percent of Jaccard lost and per nanometre of RMSE (in quadrature), and it
// can be negative. efficiency() takes α as a parameter for other weightings (an axial score).
//
// Conventions where a denominator is zero (stated so that results never hold NaN): a ratio whose
// denominator is 0 is 0 (as scikit-learn's zero_division=0), and RMSE and bias over no pairs are
// 0. So two empty tables give J = 0, and nothing detected gives precision = recall = F1 = J = 0;
// tp, fp and fn tell these cases apart.
#pragma once

#include <cmath>
#include <cstddef>

#include <smlm/eval/match.hpp>

namespace smlm::eval {

struct DetectionMetrics {
  std::size_t tp = 0, fp = 0, fn = 0;
  double precision = 0, recall = 0, f1 = 0, jaccard = 0;  ///< fractions in [0, 1]
  double rmse_lateral_nm = 0;
  double rmse_axial_nm = 0;  ///< 0 unless has_z
  double bias_x_nm = 0, bias_y_nm = 0, bias_z_nm = 0;
  double efficiency = 0;  ///< lateral, α = 1 nm⁻¹; in (−∞, 100]
  bool has_z = false;
};

/// E = 100 − √((100 (1 − J))² + (α · rmse_nm)²); J as a fraction in [0, 1], α in nm⁻¹.
inline double efficiency(double jaccard, double rmse_nm, double alpha_per_nm = 1.0) noexcept {
  return 100.0 - std::hypot(100.0 * (1.0 - jaccard), alpha_per_nm * rmse_nm);
}

namespace detail {
inline double ratio_or_zero(double numerator, double denominator) noexcept {
  return denominator > 0 ? numerator / denominator : 0.0;
}
}  // namespace detail

inline DetectionMetrics detection_metrics(const Matching& m) noexcept {
  DetectionMetrics r;
  r.tp = m.tp();
  r.fp = m.fp();
  r.fn = m.fn();
  r.has_z = m.has_z;
  const auto tp = static_cast<double>(r.tp), fp = static_cast<double>(r.fp), fn = static_cast<double>(r.fn);
  r.precision = detail::ratio_or_zero(tp, tp + fp);
  r.recall = detail::ratio_or_zero(tp, tp + fn);
  r.f1 = detail::ratio_or_zero(2 * tp, 2 * tp + fp + fn);
  r.jaccard = detail::ratio_or_zero(tp, tp + fp + fn);
  if (r.tp > 0) {
    double sx = 0, sy = 0, sz = 0, s2 = 0, sz2 = 0;
    for (const MatchedPair& p : m.pairs) {
      sx += p.dx_nm;
      sy += p.dy_nm;
      sz += p.dz_nm;
      s2 += p.dx_nm * p.dx_nm + p.dy_nm * p.dy_nm;
      sz2 += p.dz_nm * p.dz_nm;
    }
    r.bias_x_nm = sx / tp;
    r.bias_y_nm = sy / tp;
    r.rmse_lateral_nm = std::sqrt(s2 / tp);
    if (r.has_z) {
      r.bias_z_nm = sz / tp;
      r.rmse_axial_nm = std::sqrt(sz2 / tp);
    }
  }
  r.efficiency = efficiency(r.jaccard, r.rmse_lateral_nm);
  return r;
}

}  // namespace smlm::eval
