# bpf_object(NAME SOURCE [DEPENDS headers...])
#
# Compiles SOURCE (a bpf/*.bpf.c file) with clang -target bpf, generates the
# libbpf skeleton NAME.skel.h (struct NAME_bpf, NAME_bpf__open() ...: the
# suffix keeps it apart from C++ namespaces) with bpftool, and exposes both
# through an INTERFACE library `NAME_skel` whose include directory holds the skeleton.
# Everything is produced inside the build tree.

find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(RSTHOP_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "BTF used to generate vmlinux.h")
set(RSTHOP_BPF_GEN_DIR "${CMAKE_BINARY_DIR}/bpf")
file(MAKE_DIRECTORY "${RSTHOP_BPF_GEN_DIR}")

# vmlinux.h is generated once, at configure time, from the running kernel's BTF
# (CO-RE relocates field offsets at load time, so one header serves every kernel).
if(NOT EXISTS "${RSTHOP_BPF_GEN_DIR}/vmlinux.h")
  if(NOT EXISTS "${RSTHOP_VMLINUX_BTF}")
    message(FATAL_ERROR "${RSTHOP_VMLINUX_BTF} is missing: rsthop needs a kernel built with BTF (CONFIG_DEBUG_INFO_BTF=y)")
  endif()
  execute_process(
    COMMAND "${BPFTOOL}" btf dump file "${RSTHOP_VMLINUX_BTF}" format c
    OUTPUT_FILE "${RSTHOP_BPF_GEN_DIR}/vmlinux.h.tmp"
    RESULT_VARIABLE vmlinux_rc)
  if(NOT vmlinux_rc EQUAL 0)
    message(FATAL_ERROR "bpftool could not dump ${RSTHOP_VMLINUX_BTF}")
  endif()
  file(RENAME "${RSTHOP_BPF_GEN_DIR}/vmlinux.h.tmp" "${RSTHOP_BPF_GEN_DIR}/vmlinux.h")
endif()

function(bpf_object name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(obj "${RSTHOP_BPF_GEN_DIR}/${name}.bpf.o")
  set(skel "${RSTHOP_BPF_GEN_DIR}/${name}.skel.h")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set(target_arch x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(target_arch arm64)
  else()
    set(target_arch ${CMAKE_SYSTEM_PROCESSOR})
  endif()
  add_custom_command(
    OUTPUT "${obj}"
    COMMAND "${BPF_CLANG}" -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${target_arch}
            -Wall -Werror -Wno-unused-function
            -I "${RSTHOP_BPF_GEN_DIR}" -I "${CMAKE_SOURCE_DIR}/bpf"
            -c "${CMAKE_CURRENT_SOURCE_DIR}/${source}" -o "${obj}"
    DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${source}" ${ARG_DEPENDS}
    COMMENT "BPF ${source}"
    VERBATIM)
  add_custom_command(
    OUTPUT "${skel}"
    COMMAND "${BPFTOOL}" gen skeleton "${obj}" name "${name}_bpf" > "${skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${skel}.tmp" "${skel}"
    DEPENDS "${obj}"
    COMMENT "Skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS "${skel}" "${obj}")
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE "${RSTHOP_BPF_GEN_DIR}")
  set_property(GLOBAL PROPERTY ${name}_BPF_OBJECT "${obj}")
endfunction()
