// A thin doctest adapter for smlm::testing reports: SMLM_CHECK_REPORT(report) is one doctest
// CHECK per check of the report, at the caller's file and line, each failure naming the check,
// the measured value and the tolerance. Include doctest before this header.
#pragma once

#include <doctest/doctest.h>

#include <smlm/testing/report.hpp>

#define SMLM_CHECK_REPORT(...)                                                          \
  do {                                                                                 \
    const ::smlm::testing::Report& smlm_report_ = (__VA_ARGS__);                       \
    for (const ::smlm::testing::Check& smlm_check_ : smlm_report_.checks)              \
      CHECK_MESSAGE(smlm_check_.passed, ::smlm::testing::Report::describe(smlm_check_)); \
  } while (false)
