// Small builders shared by the eval tests.
#pragma once

#include <cstdint>
#include <initializer_list>

#include <smlm/core/distributions.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/rng.hpp>

namespace eval_test {

struct Row {
  std::int32_t frame;
  double x_nm, y_nm;
};

inline smlm::LocalizationTable table(std::initializer_list<Row> rows) {
  smlm::LocalizationTable t;
  for (const Row& r : rows) {
    t.frame.push_back(r.frame);
    t.x_nm.push_back(r.x_nm);
    t.y_nm.push_back(r.y_nm);
  }
  return t;
}

inline void add(smlm::LocalizationTable& t, std::int32_t frame, double x_nm, double y_nm) {
  t.frame.push_back(frame);
  t.x_nm.push_back(x_nm);
  t.y_nm.push_back(y_nm);
}

/// `n` points uniform over [0, size_nm)² in frames 1..frames (round robin), from stream (seed, stream).
inline smlm::LocalizationTable uniform_points(std::uint64_t seed, std::uint32_t stream, int n, double size_nm,
                                             int frames = 1) {
  smlm::Philox4x32 rng(seed, stream, smlm::rng_purpose::user);
  smlm::LocalizationTable t;
  for (int i = 0; i < n; ++i)
    add(t, 1 + i % frames, smlm::uniform(rng, 0.0, size_nm), smlm::uniform(rng, 0.0, size_nm));
  return t;
}

/// A copy of `truth` with each position displaced by N(0, sd²) per axis.
inline smlm::LocalizationTable jittered(const smlm::LocalizationTable& truth, std::uint64_t seed, double sd_nm) {
  smlm::Philox4x32 rng(seed, 99, smlm::rng_purpose::user);
  smlm::LocalizationTable t;
  for (std::size_t i = 0; i < truth.size(); ++i)
    add(t, truth.frame[i], truth.x_nm[i] + smlm::normal(rng, 0.0, sd_nm), truth.y_nm[i] + smlm::normal(rng, 0.0, sd_nm));
  return t;
}

}  // namespace eval_test
