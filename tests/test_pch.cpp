// Compiled with the shared precompiled header so that CMake builds it once in smlm_test_main;
// every module's test executable reuses it (tests/CMakeLists.txt, REUSE_FROM).
