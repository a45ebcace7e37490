# compile-fail.cmake - one tests/compile_fail/<name>.c test, run by CTest as
#   cmake -DCC=<compiler> -DFLAGS="<flags>" -DINCLUDE=<include dir> -DSRC=<file>
#         -P compile-fail.cmake
#
# Proves that the public headers reject a misuse at compile time. The file
# holds a program that is correct except for the code under
#       #ifdef GOC_COMPILE_FAIL
#       ... the one misuse ...
#       #endif
# and passes only if
#   1. it compiles without GOC_COMPILE_FAIL defined (the control: the file is
#      otherwise valid, so the failure below is the misuse's, not a typo's);
#   2. it does NOT compile with -DGOC_COMPILE_FAIL;
#   3. every line of the form   // expect-error: <regex>   (optional; CMake
#      regex syntax, matched against the compiler's output) matches.
# Flags: -std=gnu11 -Wall -Wextra -Werror, so a warning such as
# "incompatible pointer types" (only a warning in gcc 12) counts as rejection.
# A file with no GOC_COMPILE_FAIL section is itself an error.
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
set(ENV{LC_ALL} C) # plain ASCII quotes in diagnostics, for the regexes
get_filename_component(name "${SRC}" NAME)

file(READ "${SRC}" text)
if(NOT text MATCHES "GOC_COMPILE_FAIL")
  message(FATAL_ERROR "${name}: no '#ifdef GOC_COMPILE_FAIL' section: nothing to prove")
endif()

execute_process(COMMAND ${CC} ${flags} -I${INCLUDE} -fsyntax-only "${SRC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${name}: the control build (without GOC_COMPILE_FAIL) must compile, "
          "but failed:\n${out}")
endif()

execute_process(COMMAND ${CC} ${flags} -I${INCLUDE} -DGOC_COMPILE_FAIL -fsyntax-only "${SRC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${name}: compiled with GOC_COMPILE_FAIL defined; the misuse must not compile")
endif()

file(STRINGS "${SRC}" expects REGEX "^[ \t]*(//|/?\\*)[ \t]*expect-error:")
foreach(line IN LISTS expects)
  string(REGEX REPLACE "^[ \t]*(//|/?\\*)[ \t]*expect-error:[ \t]*" "" re "${line}")
  string(REGEX REPLACE "[ \t]*\\*/.*$" "" re "${re}")
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "${name}: rejected, but the diagnostics do not match "
            "'${re}':\n${out}")
  endif()
endforeach()
message(STATUS "${name}: rejected as expected:\n${out}")
