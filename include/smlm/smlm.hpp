// smlmkit umbrella header: the core and the physics/codec modules.
// nn, compute and io are left out on purpose (include <smlm/nn/...>, <smlm/io/...> directly),
// so a user who needs only PSF/camera/codec pays for nothing else.
#pragma once

#include <smlm/core/config.hpp>
#include <smlm/core/distributions.hpp>
#include <smlm/core/emitter.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/parallel.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/core/status.hpp>
#include <smlm/psf/psf.hpp>
#include <smlm/psf/gaussian.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/psf/astigmatic_gaussian.hpp>
#include <smlm/psf/tabulated.hpp>
#include <smlm/psf/airy.hpp>
#include <smlm/psf/zernike.hpp>
#include <smlm/codec/block.hpp>
#include <smlm/codec/transform.hpp>
#include <smlm/codec/quant.hpp>
#include <smlm/codec/scan.hpp>
#include <smlm/codec/sad.hpp>
#include <smlm/codec/bitstream.hpp>
#include <smlm/codec/intra.hpp>
#include <smlm/codec/macroblock.hpp>
#include <smlm/codec/deblock.hpp>
#include <smlm/codec/settings.hpp>
#include <smlm/codec/stream.hpp>
#include <smlm/codec/encoder.hpp>
#include <smlm/codec/decoder.hpp>
#include <smlm/camera/camera.hpp>
#include <smlm/camera/ideal.hpp>
#include <smlm/camera/emccd.hpp>
#include <smlm/camera/scmos.hpp>
#include <smlm/sim/structure.hpp>
#include <smlm/sim/blinking.hpp>
#include <smlm/sim/simulator.hpp>
#include <smlm/camera/cmos_phone.hpp>
#include <smlm/camera/dark_current.hpp>
#include <smlm/camera/fast_emccd.hpp>
