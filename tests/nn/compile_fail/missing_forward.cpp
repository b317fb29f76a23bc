// Must NOT compile: a layer without forward(), checked with nn::check_layer. The diagnostic must
// name the missing member (registered in tests/CMakeLists.txt as a compile-fail test matching
// that sentence; not part of test_nn, whose glob takes *_test.cpp only).
#include <smlm/nn/layer.hpp>

struct NoForward {
  using scalar = float;
  template <class F>
  void for_each_parameter(F&&) {}
};

static_assert(smlm::nn::check_layer<NoForward>());
