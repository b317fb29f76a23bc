# Cross toolchain for a Cortex-M7 with double-precision FPU (QEMU's mps2-an500, STM32F7/H7 class):
# arm-none-eabi GCC with newlib, hard float, no exceptions, no RTTI, no SIMD (SMLM_NO_SIMD) and no
# threads (SMLM_NO_THREADS). The firmware links its own startup and a heap that traps
# (examples/mcu/startup.cpp): nothing on the inference path may allocate.
#   cmake -S examples/mcu -B build/mcu -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/cortex-m7.cmake
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy)
set(CMAKE_SIZE arm-none-eabi-size)
# No host executables can run: try_compile builds static libraries.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(SMLM_MCU_ARCH_FLAGS "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard -mthumb")
set(CMAKE_C_FLAGS_INIT "${SMLM_MCU_ARCH_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${SMLM_MCU_ARCH_FLAGS} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -DSMLM_NO_SIMD -DSMLM_NO_THREADS")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${SMLM_MCU_ARCH_FLAGS} --specs=nano.specs --specs=nosys.specs -nostartfiles -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
