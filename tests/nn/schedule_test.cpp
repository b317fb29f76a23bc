// schedule.hpp: reduce-on-plateau, step and cosine schedules.
#include <doctest/doctest.h>

#include <smlm/nn/schedule.hpp>

using namespace smlm::nn;

TEST_CASE("ReduceOnPlateau: defaults 0.1, patience 5, floor 5e-5; reductions after > patience bad epochs") {
  ReduceOnPlateau s;
  CHECK(s.factor == 0.1);
  CHECK(s.patience == 5);
  CHECK(s.min_lr == 5e-5);
  s.lr = 1e-3;
  CHECK(s.update(1.0) == 1e-3);
  for (int e = 0; e < 5; ++e) CHECK(s.update(1.0) == 1e-3);  // 5 bad epochs: still patient
  CHECK(s.update(1.0) == doctest::Approx(1e-4));             // the 6th reduces
  CHECK(s.update(0.5) == doctest::Approx(1e-4));             // improvement resets the count
  for (int e = 0; e < 6; ++e) s.update(0.49999);             // not better by the 1e-4 relative threshold
  CHECK(s.lr == doctest::Approx(5e-5));                      // 1e-5 clamped to the floor
  for (int e = 0; e < 12; ++e) s.update(1.0);
  CHECK(s.lr == doctest::Approx(5e-5));
}

TEST_CASE("StepDecay and CosineDecay: closed forms") {
  StepDecay st{.base_lr = 1.0, .step_size = 3, .gamma = 0.5};
  CHECK(st.lr(0) == 1.0);
  CHECK(st.lr(2) == 1.0);
  CHECK(st.lr(3) == 0.5);
  CHECK(st.lr(7) == 0.25);
  CosineDecay c{.base_lr = 1.0, .period = 10, .min_lr = 0.1};
  CHECK(c.lr(0) == doctest::Approx(1.0));
  CHECK(c.lr(5) == doctest::Approx(0.55));
  CHECK(c.lr(10) == doctest::Approx(0.1));
  CHECK(c.lr(20) == doctest::Approx(0.1));
  CHECK_THROWS_AS(st.lr(-1), smlm::assertion_error);
}
