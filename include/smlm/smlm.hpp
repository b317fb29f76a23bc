// smlmkit umbrella header: the core and the physics/codec modules.
// nn, compute and io are left out on purpose (include <smlm/nn/...>, <smlm/io/...> directly),
// so a user who needs only PSF/camera/codec pays for nothing else.
#pragma once

#include <smlm/core/config.hpp>
#include <smlm/core/emitter.hpp>
#include <smlm/core/image.hpp>
#include <smlm/core/localization_table.hpp>
#include <smlm/core/parallel.hpp>
#include <smlm/core/rng.hpp>
#include <smlm/core/status.hpp>
