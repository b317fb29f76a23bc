# Debian's xsimd 8.1 package exports target `xsimd` with INTERFACE_LINK_LIBRARIES "xtl" although
# xtl is optional and not a dependency of the package, so linking `xsimd` passes `-lxtl` to the
# linker and fails. We use no xtl feature: when no `xtl` target exists, define an empty,
# directory-scoped imported one so the name resolves to nothing.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_smlmkit_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_smlmkit_xsimd_links MATCHES "(^|;)xtl(;|$)")
    add_library(xtl INTERFACE IMPORTED)
  endif()
  unset(_smlmkit_xsimd_links)
endif()
