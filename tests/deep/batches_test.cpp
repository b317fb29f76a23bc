// batches.hpp: batch s is a pure function of (seed, s); inputs are normalized, targets hold one
// spike per emitter inside the patch; the validation set comes from another seed and carries its
// ground truth in nanometres; validation_maps gives the network's output map of every patch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <smlm/camera/ideal.hpp>
#include <smlm/deep/batches.hpp>
#include <smlm/nn/unet.hpp>

using namespace smlm;

namespace {
deep::TrainingBatches<camera::Ideal<float>> make(std::uint64_t seed) {
  sim::TrainingConditions c;
  c.patch_px = 16;
  c.density_per_um2 = {4, 8};
  sim::TargetOptions t;
  t.spike_value = 100;
  return deep::TrainingBatches<camera::Ideal<float>>(c, camera::Ideal<float>{}, seed, 4, 4, t, nn::InputNormalization{});
}
}  // namespace

TEST_CASE("TrainingBatches: shapes, determinism, normalized inputs, one spike per emitter") {
  auto b = make(3);
  CHECK(b.input_shape() == nn::Shape{4, 1, 16, 16});
  CHECK(b.target_shape() == nn::Shape{4, 1, 64, 64});
  nn::Tensor<float> x1(b.input_shape()), t1(b.target_shape()), x2(b.input_shape()), t2(b.target_shape());
  b.fill(5, x1.view(), t1.view());
  b.fill(5, x2.view(), t2.view());
  CHECK(std::equal(x1.begin(), x1.end(), x2.begin()));
  CHECK(std::equal(t1.begin(), t1.end(), t2.begin()));
  b.fill(6, x2.view(), t2.view());
  CHECK(!std::equal(x1.begin(), x1.end(), x2.begin()));
  // Spikes sum to 100 × the emitters of the batch: the validation table counts them.
  const deep::ValidationSet v = b.validation(2);
  CHECK(v.patches == 8);
  double spikes = 0;
  for (const auto& [x, t] : v.batches)
    for (float s : t) spikes += s;
  CHECK(spikes == doctest::Approx(100.0 * double(v.truth.size())));
  CHECK(v.truth.size() > 0);
  for (std::size_t i = 0; i < v.truth.size(); ++i) {
    CHECK(v.truth.frame[i] >= 1);
    CHECK(v.truth.frame[i] <= 8);
    CHECK(v.truth.x_nm[i] >= 0);
    CHECK(v.truth.x_nm[i] < 1600);
  }
  // The fitted normalization makes the inputs about zero-mean, unit-variance.
  b.set_normalization(b.fit_normalization(64));
  double sum = 0, sq = 0;
  std::ptrdiff_t n = 0;
  for (std::uint64_t s = 0; s < 8; ++s) {
    b.fill(s, x1.view(), t1.view());
    for (float v1 : x1) sum += v1, sq += double(v1) * v1, ++n;
  }
  const double mean = sum / double(n);
  CHECK(std::abs(mean) < 0.2);
  CHECK(std::sqrt(sq / double(n) - mean * mean) == doctest::Approx(1.0).epsilon(0.25));
}

TEST_CASE("validation_maps: one output map per validation patch, in patch order") {
  auto b = make(3);
  const deep::ValidationSet v = b.validation(2);
  nn::SubPixel net(4);
  net.init(1);
  const std::vector<Image<float>> maps = deep::validation_maps(net, v);
  REQUIRE(maps.size() == 8);
  for (const auto& m : maps) {
    CHECK(m.rows() == 64);
    CHECK(m.cols() == 64);
    CHECK(m.allFinite());
  }
  // Patch 5 is sample 1 of batch 1: the same as the network's inference output on that batch.
  nn::Tape<float> tape;
  tape.set_mode(nn::Mode::inference);
  tape.set_recording(false);
  const nn::Var<float> y = net.forward(tape, tape.input(v.batches[1].first.view()));
  CHECK(std::equal(maps[5].data(), maps[5].data() + maps[5].size(), y.data() + 64 * 64));
}
