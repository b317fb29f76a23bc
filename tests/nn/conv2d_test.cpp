// conv2d.hpp: geometry, im2col + GEMM against the direct reference, gradients against finite
// differences (conv2d, conv_transpose2d, fixed_conv2d), the Gaussian kernel.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <smlm/nn/conv2d.hpp>
#include <vector>

#include <smlm/testing/doctest.hpp>
#include <smlm/testing/gradcheck.hpp>

using namespace smlm::nn;
using smlm::testing::gradcheck;
using smlm::testing::random_tensor;
using smlm::testing::Vars;

TEST_CASE("conv2d geometry: same and valid padding, stride 1 and 2") {
  const auto g = conv2d_geometry({1, 3, 7, 8}, {4, 3, 3, 3}, 1, Padding::same);
  CHECK(g.out_h == 7);
  CHECK(g.out_w == 8);
  CHECK(g.pad_top == 1);
  const auto g2 = conv2d_geometry({1, 3, 7, 8}, {4, 3, 3, 3}, 2, Padding::same);
  CHECK(g2.out_h == 4);  // ⌈7/2⌉, total padding (4-1)*2+3-7 = 2
  CHECK(g2.pad_top == 1);
  CHECK(g2.out_w == 4);  // ⌈8/2⌉, total padding 1 → 0 before
  CHECK(g2.pad_left == 0);
  const auto g3 = conv2d_geometry({1, 3, 7, 8}, {4, 3, 3, 3}, 2, Padding::valid);
  CHECK(g3.out_h == 3);
  CHECK(g3.out_w == 3);
  const auto g4 = conv2d_geometry({1, 1, 6, 6}, {1, 1, 4, 4}, 1, Padding::same);  // even k
  CHECK(g4.out_h == 6);
  CHECK(g4.pad_top == 1);  // total 3: 1 before, 2 after
  CHECK_THROWS_AS(conv2d_geometry({1, 2, 5, 5}, {4, 3, 3, 3}, 1, Padding::same), smlm::assertion_error);
  const auto t = conv_transpose2d_geometry({1, 2, 5, 6}, {2, 3, 3, 3}, 2, 1, 1);
  CHECK(t.in_h == 10);  // (5-1)*2 - 2 + 3 + 1
  CHECK(t.in_w == 12);
  CHECK(t.in_c == 3);
}

TEST_CASE("conv2d: a hand-computed 3x3 same convolution") {
  // x = 1..9 in a 3x3 plane, w = all ones: each output is the sum of its in-range 3x3 window.
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w(9, 1.0f), y(9);
  const auto g = conv2d_geometry({1, 1, 3, 3}, {1, 1, 3, 3}, 1, Padding::same);
  Tensor<float> scratch({1, 1, 1, static_cast<std::ptrdiff_t>(conv_forward_scratch<float>(g, 1, 1))});  // aligned
  conv2d_forward(g, 1, x.data(), w.data(), static_cast<const float*>(nullptr), y.data(), scratch.data());
  const std::vector<float> expect = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (int i = 0; i < 9; ++i) CHECK(y[i] == doctest::Approx(expect[i]));
}

namespace {
struct ConvCase {
  Shape x;
  std::ptrdiff_t cout, k, stride;
  Padding pad;
};
const ConvCase conv_cases[] = {
    {{2, 3, 7, 9}, 4, 3, 1, Padding::same},  {{1, 2, 8, 6}, 3, 3, 2, Padding::same},
    {{2, 2, 9, 7}, 3, 3, 2, Padding::valid}, {{1, 3, 5, 5}, 2, 1, 1, Padding::same},
    {{2, 1, 6, 7}, 2, 5, 1, Padding::valid}, {{1, 2, 6, 6}, 2, 4, 1, Padding::same},
    {{3, 2, 5, 4}, 3, 2, 2, Padding::valid}, {{1, 4, 11, 13}, 5, 7, 1, Padding::same},
};
}  // namespace

TEST_CASE("pack_shifted: the padded input holds x with zeros around, panels hold its shifted slices") {
  // Every kept position q = r·Wp + j (j < out_w) of the extended grid must see the convolution's
  // tap (c, u, v) = x[c][r + u − pad_top][j + v − pad_left] (zero outside), and the packed block
  // must hold those values at block[(p·depth + t)·mr + i] for position q0 + mr·p + i.
  std::uint32_t stream = 0;
  std::vector<ConvCase> cases;
  for (const ConvCase& c : conv_cases)
    if (c.stride == 1 && c.k > 1) cases.push_back(c);
  cases.push_back({{1, 5, 9, 70}, 3, 3, 1, Padding::same});  // rows longer than a panel
  REQUIRE(cases.size() >= 5);
  for (const ConvCase& c : cases) {
    CAPTURE(c.k);
    CAPTURE(c.x.w);
    const Shape ws{c.cout, c.x.c, c.k, c.k};
    const auto g = conv2d_geometry(c.x, ws, 1, c.pad);
    const auto grid = detail::ShiftedGrid::of(g);
    auto x = random_tensor<float>(c.x, 99, ++stream);
    std::vector<float> xp(static_cast<std::size_t>(grid.sample(g)), -7.0f);  // no stale value may survive
    detail::pad_input(g, x.data(), 0, g.in_c, xp.data());
    for (std::ptrdiff_t i = g.in_c * grid.plane(); i < grid.sample(g); ++i) REQUIRE(xp[std::size_t(i)] == 0.0f);
    const std::ptrdiff_t K = g.depth(), Q = g.out_h * grid.wp;
    for (const std::ptrdiff_t k0 : {std::ptrdiff_t(0), K / 2}) {
      for (const std::ptrdiff_t q0 : {std::ptrdiff_t(0), std::ptrdiff_t(5)}) {
        const std::ptrdiff_t panels = (Q - q0 + detail::micro_mr - 1) / detail::micro_mr, depth = K - k0;
        std::vector<float> block(static_cast<std::size_t>(panels * depth * detail::micro_mr));
        detail::pack_shifted(g, xp.data(), q0, panels, k0, depth, block.data());
        for (std::ptrdiff_t p = 0; p < panels; ++p)
          for (std::ptrdiff_t t = 0; t < depth; ++t)
            for (std::ptrdiff_t i = 0; i < detail::micro_mr; ++i) {
              const std::ptrdiff_t q = q0 + p * detail::micro_mr + i, r = q / grid.wp, j = q % grid.wp;
              if (q >= Q || j >= g.out_w) continue;  // computed and dropped
              const std::ptrdiff_t tap = k0 + t, ch = tap / (g.k * g.k), u = tap / g.k % g.k, v = tap % g.k;
              const std::ptrdiff_t sy = r + u - g.pad_top, sx = j + v - g.pad_left;
              const bool inside = sy >= 0 && sy < g.in_h && sx >= 0 && sx < g.in_w;
              REQUIRE(block[std::size_t((p * depth + t) * detail::micro_mr + i)] ==
                      (inside ? x[(ch * g.in_h + sy) * g.in_w + sx] : 0.0f));
            }
      }
    }
  }
}

#if SMLM_NN_MICROKERNEL
TEST_CASE("micro_kernel agrees bit for bit with its scalar reference") {
  const std::uint64_t seed = 4808;
  INFO("seed " << seed);
  for (const std::ptrdiff_t kc : {1, 7, 256}) {
    CAPTURE(kc);
    const std::ptrdiff_t ld = detail::micro_mr + 5;
    auto a = random_tensor<float>({1, 1, kc, detail::micro_mr}, seed, 1);
    auto b = random_tensor<float>({1, 1, kc, detail::micro_nr}, seed, 2);
    auto c0 = random_tensor<float>({1, 1, detail::micro_nr, ld}, seed, 3);
    Tensor<float> c1({1, 1, detail::micro_nr, ld});
    for (std::ptrdiff_t i = 0; i < c0.size(); ++i) c1[i] = c0[i];
    detail::micro_kernel(kc, a.data(), b.data(), c0.data(), ld);
    detail::micro_kernel_ref(kc, a.data(), b.data(), c1.data(), ld);
    for (std::ptrdiff_t i = 0; i < c0.size(); ++i) REQUIRE(c0[i] == c1[i]);  // rows mr..mr+4 untouched too
  }
}

TEST_CASE("transpose_block agrees with its scalar reference, rows at any alignment") {
  constexpr int lanes = detail::transpose_lanes;
  const std::uint64_t seed = 808;
  INFO("seed " << seed);
  auto src = random_tensor<float>({1, 1, 1, 4 * lanes * lanes}, seed, 1);
  const float* rows[lanes];
  for (int r = 0; r < lanes; ++r) rows[r] = src.data() + r * (lanes + 3) + r % 3;  // unaligned, uneven starts
  const std::ptrdiff_t ld = lanes + 5;
  std::vector<float> fast(std::size_t(lanes * ld), -1.0f), ref(fast);
  detail::transpose_block(rows, fast.data(), ld);
  detail::transpose_block_ref(rows, ref.data(), ld);
  for (std::size_t i = 0; i < fast.size(); ++i) {
    CAPTURE(i);
    REQUIRE(fast[i] == ref[i]);  // the gaps between destination rows untouched too
  }
}
#endif

TEST_CASE("conv2d_forward: the band cut gives identical outputs on 1, 2 and 3 threads") {
  // Width 13: GEMM edge columns, whose rounding differs, fall at places that depend on the cut,
  // so the cut must not depend on the thread count.
  const Shape xs{1, 24, 75, 13}, ws{5, 24, 3, 3};
  const std::uint64_t seed = 20261202;
  INFO("seed " << seed);
  auto x = random_tensor<float>(xs, seed, 1), w = random_tensor<float>(ws, seed, 2);
  const auto g = conv2d_geometry(xs, ws, 1, Padding::same);
  REQUIRE(detail::forward_bands(g, 1) == 4);
  REQUIRE(detail::forward_bands(g, 3) == 4);
  for (const std::ptrdiff_t batch : {1, 3}) {
    CAPTURE(batch);
    const Shape bs{batch, xs.c, xs.h, xs.w};
    auto xb = random_tensor<float>(bs, seed, 3);
    std::vector<float> first;
    for (const int threads : {1, 2, 3}) {
      CAPTURE(threads);
      WorkerPool pool(threads);
      std::vector<float> scratch(conv_forward_scratch<float>(g, batch, threads) + 64);
      float* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64 / sizeof(float);
      Tensor<float> y({batch, g.out_c, g.out_h, g.out_w});
      conv2d_forward(g, batch, xb.data(), w.data(), static_cast<const float*>(nullptr), y.data(), aligned, &pool);
      if (first.empty()) {
        first.assign(y.data(), y.data() + y.size());
      } else {
        for (std::ptrdiff_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == first[std::size_t(i)]);
      }
    }
  }
}

TEST_CASE_TEMPLATE("conv2d: im2col + GEMM and the scratch-free direct kernel match the reference (forward and backward)", T, float, double) {
  const std::uint64_t seed = 20261201;
  MESSAGE("seed " << seed);
  const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
  std::uint32_t stream = 0;
  std::vector<ConvCase> cases(std::begin(conv_cases), std::end(conv_cases));
  // Planes large enough that a sample is cut into several im2col tiles (depth · width · rows
  // > 2^20), stride 1 and 2, so the tile loops of all three kernels run more than once.
  cases.push_back({{2, 64, 32, 128}, 3, 3, 1, Padding::same});
  cases.push_back({{1, 64, 61, 250}, 2, 3, 2, Padding::same});
  // 20 output channels: 8-channel panels of which the last is partly padding, and a 16-channel
  // transpose group that is half padding, in the micro-kernel's weight gradient.
  cases.push_back({{2, 3, 6, 21}, 20, 3, 1, Padding::same});
  // For the scratch-free direct kernel: padding 2 on every side, an even kernel with stride 3,
  // a kernel wider than the input.
  cases.push_back({{1, 5, 7, 33}, 4, 5, 1, Padding::same});
  cases.push_back({{2, 3, 9, 11}, 2, 4, 3, Padding::same});
  cases.push_back({{1, 2, 3, 4}, 3, 5, 1, Padding::same});
  for (const ConvCase& c : cases) {
    CAPTURE(c.k);
    CAPTURE(c.stride);
    const Shape ws{c.cout, c.x.c, c.k, c.k};
    if (c.x.c == 64) {
      const auto gg = conv2d_geometry(c.x, ws, c.stride, c.pad);
      REQUIRE(detail::conv_tile_rows(gg) < gg.out_h);  // really several tiles
    }
    const auto g = conv2d_geometry(c.x, ws, c.stride, c.pad);
    const Shape ys{c.x.n, c.cout, g.out_h, g.out_w};
    auto x = random_tensor<T>(c.x, seed, ++stream), w = random_tensor<T>(ws, seed, ++stream);
    auto b = random_tensor<T>({1, c.cout, 1, 1}, seed, ++stream), dy = random_tensor<T>(ys, seed, ++stream);
    Tensor<T> y_ref(ys), y_fast(ys);
    conv2d_forward_ref(g, c.x.n, x.data(), w.data(), b.data(), y_ref.data());
    WorkerPool pool(2);
    std::vector<T> scratch(conv_forward_scratch<T>(g, c.x.n, 2) + 64);
    T* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64 / sizeof(T);
    conv2d_forward(g, c.x.n, x.data(), w.data(), b.data(), y_fast.data(), aligned, &pool);
    double scale = 0;
    for (auto v : y_ref) scale = std::max(scale, std::abs(double(v)));
    for (std::ptrdiff_t i = 0; i < ys.size(); ++i) REQUIRE(std::abs(double(y_fast[i] - y_ref[i])) <= tol * scale);
    // conv2d_forward_direct (StaticUNet's kernel), with and without bias.
    for (const T* bias : {static_cast<const T*>(b.data()), static_cast<const T*>(nullptr)}) {
      Tensor<T> y_direct(ys, T(12345)), y_ref_bias(ys);
      conv2d_forward_ref(g, c.x.n, x.data(), w.data(), bias, y_ref_bias.data());
      conv2d_forward_direct(g, c.x.n, x.data(), w.data(), bias, y_direct.data());
      for (std::ptrdiff_t i = 0; i < ys.size(); ++i)
        REQUIRE(std::abs(double(y_direct[i] - y_ref_bias[i])) <= tol * scale);
    }

    // Backward through the tape (fast path, 2 threads) against conv2d_backward_ref.
    Tensor<T> dx_ref(c.x), dw_ref(ws), db_ref({1, c.cout, 1, 1});
    conv2d_backward_ref(g, c.x.n, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data());
    Tensor<T> dx(c.x), dw(ws), db({1, c.cout, 1, 1});
    Tape<T> tape(&pool);
    const auto yv = conv2d(tape, tape.input(x.view(), dx.data()), tape.input(w.view(), dw.data()),
                           tape.input(b.view(), db.data()), {c.stride, c.pad});
    for (std::ptrdiff_t i = 0; i < ys.size(); ++i) REQUIRE(yv.value[i] == y_fast[i]);
    tape.backward(yv, dy.view());
    auto close = [&](const Tensor<T>& fast, const Tensor<T>& ref) {
      double s = 0, e = 0;
      for (std::ptrdiff_t i = 0; i < ref.size(); ++i) {
        s = std::max(s, std::abs(double(ref[i])));
        e = std::max(e, std::abs(double(fast[i] - ref[i])));
      }
      return e <= tol * s;
    };
    CHECK(close(dx, dx_ref));
    CHECK(close(dw, dw_ref));
    CHECK(close(db, db_ref));
  }
}

TEST_CASE("conv2d: adversarial inputs (all-max, checkerboard) match the reference without NaN") {
  const Shape xs{1, 2, 9, 10}, ws{3, 2, 3, 3};
  const auto g = conv2d_geometry(xs, ws, 1, Padding::same);
  Tensor<float> x(xs), w(ws, 1.0f), y_ref({1, 3, 9, 10}), y({1, 3, 9, 10});
  std::vector<float> scratch(conv_forward_scratch<float>(g, 1, 1) + 64);
  float* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64 / sizeof(float);
  for (const float big : {1e30f, -1e30f}) {
    for (std::ptrdiff_t i = 0; i < x.size(); ++i) x[i] = (i % 2) ? big : -big / 2;
    conv2d_forward_ref(g, 1, x.data(), w.data(), static_cast<const float*>(nullptr), y_ref.data());
    conv2d_forward(g, 1, x.data(), w.data(), static_cast<const float*>(nullptr), y.data(), aligned);
    for (std::ptrdiff_t i = 0; i < y.size(); ++i) {
      REQUIRE(std::isfinite(y[i]));
      CHECK(std::abs(y[i] - y_ref[i]) <= 1e-5f * std::abs(big) * 9);
    }
  }
}

TEST_CASE("conv2d: gradients match finite differences (random shapes, odd sizes, bias or not)") {
  std::uint64_t seed = 7001;
  for (const ConvCase& c : conv_cases) {
    CAPTURE(c.k);
    CAPTURE(c.stride);
    const bool with_bias = c.k != 5;
    std::vector<Tensor<double>> in;
    in.push_back(random_tensor(c.x, seed, 1));
    in.push_back(random_tensor({c.cout, c.x.c, c.k, c.k}, seed, 2, 0.5));
    if (with_bias) in.push_back(random_tensor({1, c.cout, 1, 1}, seed, 3));
    SMLM_CHECK_REPORT(gradcheck(in, [&](Tape<double>& t, const Vars& v) {
      return with_bias ? conv2d(t, v[0], v[1], v[2], {c.stride, c.pad}) : conv2d(t, v[0], v[1], {c.stride, c.pad});
    }, seed++));
  }
}

TEST_CASE("conv_transpose2d: matches its reference and finite differences; adjoint of conv2d") {
  struct Case {
    Shape x;
    std::ptrdiff_t cout, k, stride, pad, out_pad;
  };
  const Case cases[] = {{{2, 3, 4, 5}, 2, 2, 2, 0, 0}, {{1, 2, 5, 3}, 3, 3, 2, 1, 1}, {{1, 2, 4, 4}, 2, 3, 1, 1, 0},
                        {{2, 1, 3, 3}, 2, 4, 2, 1, 0}};
  std::uint64_t seed = 8100;
  for (const Case& c : cases) {
    const Shape ws{c.x.c, c.cout, c.k, c.k};
    const auto g = conv_transpose2d_geometry(c.x, ws, c.stride, c.pad, c.out_pad);
    auto x = random_tensor(c.x, seed, 1), w = random_tensor(ws, seed, 2), b = random_tensor({1, c.cout, 1, 1}, seed, 3);
    Tensor<double> y_ref({c.x.n, c.cout, g.in_h, g.in_w});
    conv_transpose2d_forward_ref(g, c.x.n, x.data(), w.data(), b.data(), y_ref.data());
    Tape<double> tape;
    const ConvTranspose2dOptions opt{c.stride, c.pad, c.out_pad};
    const auto y = conv_transpose2d(tape, tape.input(x.view()), tape.input(w.view()), tape.input(b.view()), opt);
    REQUIRE(y.shape() == y_ref.shape());
    for (std::ptrdiff_t i = 0; i < y_ref.size(); ++i) CHECK(y.value[i] == doctest::Approx(y_ref[i]).epsilon(1e-12));
    // <conv_transpose(x), z> = <x, conv(z)> with the same weights (bias off).
    auto z = random_tensor(y_ref.shape(), seed, 4);
    Tensor<double> conv_z(c.x), ty(y_ref.shape());
    conv2d_forward_ref(g, c.x.n, z.data(), w.data(), static_cast<const double*>(nullptr), conv_z.data());
    conv_transpose2d_forward_ref(g, c.x.n, x.data(), w.data(), static_cast<const double*>(nullptr), ty.data());
    double lhs = 0, rhs = 0;
    for (std::ptrdiff_t i = 0; i < z.size(); ++i) lhs += ty[i] * z[i];
    for (std::ptrdiff_t i = 0; i < x.size(); ++i) rhs += x[i] * conv_z[i];
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-10));
    std::vector<Tensor<double>> in{x, w, b};
    SMLM_CHECK_REPORT(gradcheck(in, [&](Tape<double>& t, const Vars& v) { return conv_transpose2d(t, v[0], v[1], v[2], opt); }, seed++));
  }
}

TEST_CASE("gaussian_kernel and fixed_conv2d: normalisation, symmetry, gradient only into x") {
  std::vector<double> k(49);
  gaussian_kernel(k.data(), 7, 1.0, 2.0);
  double sum = 0;
  for (double v : k) sum += v;
  CHECK(sum == doctest::Approx(2.0).epsilon(1e-12));
  CHECK(k[24] > k[23]);
  CHECK(k[23] == doctest::Approx(k[25]));
  CHECK(k[17] == doctest::Approx(k[23]));
  CHECK(k[23] / k[24] == doctest::Approx(std::exp(-0.5)));
  CHECK_THROWS_AS(gaussian_kernel(k.data(), 4, 1.0), smlm::assertion_error);

  // A unit impulse in the middle of a plane reproduces the kernel; every channel is blurred alike.
  Tensor<double> x({1, 2, 9, 9});
  x(0, 0, 4, 4) = 1;
  x(0, 1, 4, 4) = 3;
  Tape<double> tape;
  const auto y = fixed_conv2d(tape, tape.input(x.view()), TensorView<const double>(k.data(), {1, 1, 7, 7}));
  for (int u = 0; u < 7; ++u)
    for (int v = 0; v < 7; ++v) {
      CHECK(y.value(0, 0, 1 + u, 1 + v) == doctest::Approx(k[u * 7 + v]));
      CHECK(y.value(0, 1, 1 + u, 1 + v) == doctest::Approx(3 * k[u * 7 + v]));
    }
  std::vector<Tensor<double>> in{random_tensor({2, 2, 6, 5}, 9, 1)};
  SMLM_CHECK_REPORT(gradcheck(in, [&](Tape<double>& t, const Vars& v) {
    return fixed_conv2d(t, v[0], TensorView<const double>(k.data(), {1, 1, 7, 7}));
  }, 9));
}

TEST_CASE("gemm: the scratch-buffer Eigen product matches gemm_ref for every transpose") {
  using detail::trans;
  const std::uint64_t seed = 4242;
  MESSAGE("seed " << seed);
  const std::ptrdiff_t m = 37, n = 53, k = 29;
  auto a = random_tensor<float>({1, 1, 1, m * k}, seed, 1), b = random_tensor<float>({1, 1, 1, k * n}, seed, 2);
  std::vector<float> scratch(detail::gemm_scratch_size<float>(m, n, k) + 64);
  float* s = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64 / sizeof(float);
  auto run = [&](auto ta, auto tb) {
    constexpr trans TA = decltype(ta)::value, TB = decltype(tb)::value;
    const std::ptrdiff_t lda = TA == trans::no ? k : m, ldb = TB == trans::no ? n : k;
    std::vector<float> c1(m * n, 0.5f), c2(m * n, 0.5f);
    detail::gemm<TA, TB>(m, n, k, 0.75f, a.data(), lda, b.data(), ldb, c1.data(), n, s,
                         detail::gemm_scratch_size<float>(m, n, k));
    detail::gemm_ref<TA, TB>(m, n, k, 0.75f, a.data(), lda, b.data(), ldb, c2.data(), n);
    for (std::ptrdiff_t i = 0; i < m * n; ++i) REQUIRE(c1[i] == doctest::Approx(c2[i]).epsilon(1e-5));
  };
  run(std::integral_constant<trans, trans::no>{}, std::integral_constant<trans, trans::no>{});
  run(std::integral_constant<trans, trans::yes>{}, std::integral_constant<trans, trans::no>{});
  run(std::integral_constant<trans, trans::no>{}, std::integral_constant<trans, trans::yes>{});
  run(std::integral_constant<trans, trans::yes>{}, std::integral_constant<trans, trans::yes>{});
}

TEST_CASE("gemm: blocks shrink to the scratch it is given (Eigen's blocking is not monotonic in the sizes)") {
  using detail::trans;
  // On AVX2 (Zen 3) Eigen gives (m, n, k) = (64, 552, 27) larger packing blocks than
  // (64, 4096, 27): a scratch sized for the larger problem was overrun by the smaller one (found
  // under ASan). The order depends on the cache sizes Eigen reads (on a Zen 5 with AVX-512 it is
  // the other way round), so every capacity below is also tried at half the problem's own need.
  const std::ptrdiff_t m = 64, n = 552, k = 27;
  auto a = random_tensor<float>({1, 1, 1, m * k}, 5, 1), b = random_tensor<float>({1, 1, 1, k * n}, 5, 2);
  for (const std::size_t capacity : {detail::gemm_scratch_size<float>(m, 4096, k), detail::gemm_scratch_size<float>(m, n, k) / 2,
                                     std::size_t(2000), std::size_t(300)}) {
    CAPTURE(capacity);
    // Exactly `capacity` elements on the heap (aligned): an overrun is a heap overflow under ASan.
    float* s = static_cast<float*>(::operator new(capacity * sizeof(float), std::align_val_t(64)));
    CHECK(detail::gemm_footprint<float>(detail::gemm_blocking_within<float>(m, n, k, capacity)) <= capacity);
    std::vector<float> c1(static_cast<std::size_t>(m * n), 0.0f), c2(c1);
    detail::gemm<trans::no, trans::no>(m, n, k, 1.0f, a.data(), k, b.data(), n, c1.data(), n, s, capacity);
    detail::gemm_ref<trans::no, trans::no>(m, n, k, 1.0f, a.data(), k, b.data(), n, c2.data(), n);
    for (std::size_t i = 0; i < c1.size(); ++i) REQUIRE(c1[i] == doctest::Approx(c2[i]).epsilon(1e-5));
    ::operator delete(s, std::align_val_t(64));
  }
}
