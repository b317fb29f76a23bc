// Compile-and-run check of the exception-free, RTTI-free, SIMD-free core (the microcontroller path).
// Exits 0 only when the core behaves as expected without exceptions.
#include <smlm/smlm.hpp>

#if !defined(SMLM_NO_EXCEPTIONS)
#error "this translation unit must be built with -fno-exceptions"
#endif
#if defined(__GXX_RTTI)
#error "this translation unit must be built with -fno-rtti"
#endif

namespace {
smlm::Expected<int> parse_positive(int v) {
  if (v <= 0) return smlm::make_error(smlm::errc::invalid_argument, "value ", v, " is not positive");
  return v;
}
}  // namespace

int main() {
  int failures = 0;
  auto good = parse_positive(3);
  auto bad = parse_positive(-1);
  failures += !(good && *good == 3);
  failures += !(!bad && bad.status().code() == smlm::errc::invalid_argument);

  smlm::Stack<float> stack(2, 3, 4, 1.0f);
  failures += !(stack.frame(1).sum() == 12.0f);

  smlm::Philox4x32 rng(42, 1, smlm::rng_purpose::emitters);
  double sum = 0;
  for (int i = 0; i < 1000; ++i) sum += smlm::uniform01<double>(rng);
  failures += !(sum > 400 && sum < 600);

  // Every sampler compiles and runs without exceptions; the sums are loose sanity bounds
  // (the statistics are tested in tests/core/distributions_test.cpp).
  std::int64_t counts = 0;
  double normals = 0, gammas = 0;
  for (int i = 0; i < 1000; ++i) {
    counts += smlm::poisson(rng, 20.0f) + smlm::binomial(rng, 100, 0.25);
    normals += smlm::normal(rng, 0.0, 1.0);
    gammas += smlm::gamma(rng, 2.0, 1.0);
  }
  failures += !(counts > 40000 && counts < 50000);  // mean 45,000, sd ~ 220
  failures += !(normals > -200 && normals < 200);   // sd ~ 32
  failures += !(gammas > 1800 && gammas < 2200);    // mean 2,000, sd ~ 45
  if (failures) std::fprintf(stderr, "noexcept_core: %d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
