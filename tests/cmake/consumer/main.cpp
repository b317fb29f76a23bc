#include <smlm/smlm.hpp>
#include <smlm/io/tiff.hpp>

int main() {
  smlm::Stack<float> stack(2, 4, 5, 1.0f);
  smlm::Philox4x32 rng(1, 1, smlm::rng_purpose::user);
  const double u = smlm::uniform01<double>(rng);
  return (stack.frame(1).sum() == 20.0f && u >= 0.0 && u < 1.0) ? 0 : 1;
}
