#include "images/source.h"

#include <sys/stat.h>

#include <cerrno>

#include "common/error.h"
#include "images/staging.h"

namespace shelter::images {

ImageConfig stage_source(const std::filesystem::path& source, const std::filesystem::path& staging,
                         const std::filesystem::path& /*scratch*/) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) throw SystemError("cannot read the source " + source.string(), errno);
  if (!S_ISDIR(st.st_mode)) throw Error(source.string() + ": not a directory");
  stage_directory(source, staging);
  return {};
}

}  // namespace shelter::images
