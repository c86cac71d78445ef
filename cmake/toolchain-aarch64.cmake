# toolchain-aarch64.cmake — cross-compile goro's tests and examples for arm64
# Linux on an x86-64 Debian host, and run them under qemu-user.
#
#   cmake -S . -B build/arm64 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
#   (scripts/test_arm64 does this, builds a subset and runs it with ctest)
#
# Needs (scripts/install-deps --arm64): g++-aarch64-linux-gnu,
# libboost-context1.74-dev:arm64 (multiarch) and qemu-user.
#
# Binaries are linked statically (glibc, libstdc++ and libboost_context.a):
# qemu-aarch64 7.2 on the project's machines hangs before main() for every
# dynamically linked arm64 program, while static ones run. ctest runs each
# binary through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64); the death and
# example checks (cmake/check_output.cmake) get it as -DEMULATOR.
#
# The page size the emulated programs see is qemu's: 4096 by default, or
# QEMU_PAGESIZE=16384 / 65536 in the environment (as on arm64 kernels with
# 16K or 64K pages; scripts/test_arm64 runs part of the tests that way).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian multiarch: arm64 libraries and their CMake packages live in
# /usr/lib/aarch64-linux-gnu (Boost), arch-independent ones in /usr (Catch2).
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

set(Boost_USE_STATIC_LIBS ON)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

find_program(GORO_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static
             DOC "qemu-user for arm64 (Debian: qemu-user)")
if(GORO_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${GORO_QEMU_AARCH64}")
endif()
