// The negative check of the trapping heap (startup.cpp): a firmware that allocates must not get
// memory. run.sh expects this one to end with "heap allocation ... trapped" and exit status 1.
#include <vector>

#include "../semihosting.hpp"

int main() {
  std::vector<float> v(100);
  v[3] = 1;
  mcu::write("mcu: allocation returned memory\n");
  return static_cast<int>(v[3]) - 1;
}
