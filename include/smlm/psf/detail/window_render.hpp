// The entry points shared by models that render pixel by pixel (Tabulated, Airy): the shape
// preconditions of evaluate and the clipping of add_to to the support window inside the frame.
#pragma once

#include <cstddef>

#include <smlm/core/config.hpp>
#include <smlm/core/image.hpp>
#include <smlm/psf/psf.hpp>

namespace smlm::psf::detail {

template <class T>
void assert_shapes(Window w, const ImageView<T>& mu, const JacobianView<T>* jacobian,
                   int num_params) SMLM_NOEXCEPT {
  SMLM_ASSERT(mu.rows() == w.height && mu.cols() == w.width,
              "psf evaluate: mu must be window.height × window.width");
  if (jacobian) {
    SMLM_ASSERT(jacobian->num_planes() == num_params && jacobian->height() == w.height &&
                    jacobian->width() == w.width,
                "psf evaluate: the Jacobian needs num_params planes of window.height × window.width");
  }
  (void)num_params;
}

/// Calls render(window, out, stride) for the model's support window clipped to the frame, out
/// pointing at that window's first pixel inside the frame; nothing when the clip is empty.
template <class P, class Render>
void add_over_support(const P& model, const Spot<typename P::scalar>& s,
                      ImageView<typename P::scalar> frame, Render&& render) noexcept {
  const Window w = clip(support_window(model, s), frame.cols(), frame.rows());
  if (w.empty()) return;
  render(w, frame.data() + w.y0 * frame.outerStride() + w.x0, frame.outerStride());
}

}  // namespace smlm::psf::detail
