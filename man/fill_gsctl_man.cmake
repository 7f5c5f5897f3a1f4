# cmake -DGSCTL=... -DIN=gsctl.1.in -DOUT=gsctl.1 -DGS_VERSION=... \
#       -DGS_SYSCONFDIR=... -DGS_COMPLETIONSDIR=... -P fill_gsctl_man.cmake
# Puts the list of commands that `gsctl __man` makes from the command table
# into gsctl(1), so that the page and gsctl cannot disagree.
execute_process(COMMAND ${GSCTL} __man OUTPUT_VARIABLE GSCTL_COMMANDS RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${GSCTL} __man failed (${rc})")
endif()
string(STRIP "${GSCTL_COMMANDS}" GSCTL_COMMANDS)
configure_file(${IN} ${OUT} @ONLY)
