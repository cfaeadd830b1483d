# Install rules and the .deb (cpack -G DEB).  Decided when installing, not when
# configuring: under the prefix /usr (the .deb, `cmake --install build --prefix /usr`)
# the unit goes to /lib/systemd/system and the config to /etc/rsthop, as Debian 12
# has them; under any other prefix both stay inside it (a staging install), and
# the unit's ExecStart names the binary where this install puts it.
include(GNUInstallDirs)
# cpack installs what is built (build rsthop first) instead of building every test first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(pkg ${CMAKE_SOURCE_DIR}/packaging)
set(gen ${CMAKE_BINARY_DIR}/packaging)
# Debian wants man pages and changelogs compressed, reproducibly (-n: no name or time).
foreach(f rsthop.8 changelog)
  add_custom_command(OUTPUT ${gen}/${f}.gz
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${gen}
                     COMMAND gzip -9nc ${pkg}/${f} > ${gen}/${f}.gz
                     DEPENDS ${pkg}/${f} VERBATIM)
endforeach()
add_custom_target(rsthop_packaging_files ALL DEPENDS ${gen}/rsthop.8.gz ${gen}/changelog.gz)
# The installed config is a conffile: dpkg keeps the admin's edits on upgrade.
file(WRITE ${gen}/conffiles "/etc/rsthop/rsthop.toml\n")

install(TARGETS rsthop RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
# file(INSTALL) puts $DESTDIR in front of these absolute paths itself.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(unit_dir /lib/systemd/system)
    set(conf_dir /etc/rsthop)
  else()
    set(unit_dir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
    set(conf_dir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}/rsthop\")
  endif()
  file(READ \"${pkg}/rsthop.service\" unit)
  string(REPLACE \"/usr/sbin/rsthop\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}/rsthop\" unit \"\${unit}\")
  file(WRITE \"${gen}/rsthop.service\" \"\${unit}\")
  file(INSTALL DESTINATION \"\${unit_dir}\" TYPE FILE FILES \"${gen}/rsthop.service\")
  file(INSTALL DESTINATION \"\${conf_dir}\" TYPE FILE FILES \"${pkg}/rsthop.toml\")")
install(FILES ${gen}/rsthop.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${pkg}/rsthop.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME rsthop)
install(FILES ${pkg}/copyright ${gen}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME rsthop)
set(CPACK_PACKAGE_VENDOR "the rsthop authors")
set(CPACK_PACKAGE_CONTACT "rsthop authors <rsthop@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "who reset my connection? TCP reset tracer (eBPF)")
set(CPACK_PACKAGE_DESCRIPTION
    "rsthop records every TCP handshake, close and reset with the packet features\nthat betray an injected reset, says who sent each reset (the endpoint, a\nmiddlebox at hop N, this host) with its evidence, and streams it as NDJSON\n(ECS fields) or text.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)  # the install runs with the prefix /usr (above), into cpack's DESTDIR
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/rsthop")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps: libbpf1, libssl3, libpcap0.8, libsystemd0, ...
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ieee-data")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${gen}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
