// <immintrin.h> included once, first, under a pragma scoped to it alone. GCC 12's AVX-512
// intrinsic headers initialise their "undefined" vectors as `__m512i __Y = __Y;`, which GCC 12
// itself then reports as -Wuninitialized / -Wmaybe-uninitialized wherever such an intrinsic is
// inlined (GCC bug 105593): false positives located in avx512fintrin.h, hundreds of them through
// Eigen, xsimd and our codec on an AVX-512 machine. GCC applies a diagnostic pragma by the
// warning's location, so silencing the two warnings while the header is read silences exactly
// those (a real uninitialised use in our code is located in our code and still reported).
// Every smlmkit header that reaches the intrinsics (Eigen, xsimd, <immintrin.h>) includes this
// one before them, so the pragma's region is where the header is first read.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12 && (defined(__x86_64__) || defined(__i386__))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif
