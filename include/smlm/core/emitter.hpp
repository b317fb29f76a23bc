// Emitter: one fluorophore's appearance in one frame, in the kernels' pixel coordinates.
#pragma once

#include <cstdint>

namespace smlm {

/// x_px, y_px are continuous pixel coordinates (pixel i spans [i, i+1), its centre is i + 0.5);
/// z_nm is the axial position relative to focus (0 for 2D); photons is the number of photons the
/// emitter sends to the detector during the frame; frame is 1-based, as in localization tables;
/// id identifies the fluorophore across frames (0 = unknown).
template <class T = double>
struct Emitter {
  T x_px = 0;
  T y_px = 0;
  T z_nm = 0;
  T photons = 0;
  std::int32_t frame = 1;
  std::int64_t id = 0;
};

}  // namespace smlm
