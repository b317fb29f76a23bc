// Boost.Compute's core with smlmkit's OpenCL contract: version 1.2 APIs only, exceptions on.
// Boost.Compute reports every OpenCL error by throwing; compute/ catches at its public boundary.
#pragma once

#include <smlm/core/detail/intrinsics.hpp>  // first: see there (Boost reaches <immintrin.h>)

#include <smlm/core/config.hpp>

#if defined(SMLM_NO_EXCEPTIONS)
#error "smlm/compute needs exceptions: Boost.Compute reports OpenCL errors by throwing (compute/ turns them into Status)"
#endif

#ifndef BOOST_COMPUTE_MAX_CL_VERSION
#define BOOST_COMPUTE_MAX_CL_VERSION 102
#endif
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif

#include <boost/compute/core.hpp>
