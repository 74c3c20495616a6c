# Warnings are errors for the project's own code; third-party headers are
# included as SYSTEM so their warnings stay theirs.
add_compile_options(
  -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wimplicit-fallthrough -Wformat=2)
