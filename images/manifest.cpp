#include "images/manifest.h"

#include <nlohmann/json.hpp>

#include "images/error.h"

namespace shelter::images {
namespace {

using nlohmann::json;

const json& field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) throw FormatError(std::string("manifest: missing field '") + name + "'");
  return *it;
}

std::vector<std::string> string_list(const json& object, const char* name) {
  const json& value = field(object, name);
  if (!value.is_array()) throw FormatError(std::string("manifest: '") + name + "' is not a list");
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string())
      throw FormatError(std::string("manifest: '") + name + "' holds a non-string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string string_field(const json& object, const char* name) {
  const json& value = field(object, name);
  if (!value.is_string()) throw FormatError(std::string("manifest: '") + name + "' is not a string");
  return value.get<std::string>();
}

bool bool_field(const json& object, const char* name) {
  const json& value = field(object, name);
  if (!value.is_boolean()) throw FormatError(std::string("manifest: '") + name + "' is not true/false");
  return value.get<bool>();
}

}  // namespace

json manifest_to_json(const Manifest& m) {
  return json{{"entrypoint", m.entrypoint}, {"args", m.args},
              {"env", m.env},               {"workdir", m.workdir},
              {"user", m.user},             {"console_output", m.console_output},
              {"allow_host_args", m.allow_host_args}};
}

Manifest manifest_from_json(const json& j) {
  if (!j.is_object()) throw FormatError("manifest: not a JSON object");
  Manifest m;
  m.entrypoint = string_list(j, "entrypoint");
  m.args = string_list(j, "args");
  m.env = string_list(j, "env");
  m.workdir = string_field(j, "workdir");
  m.user = string_field(j, "user");
  m.console_output = bool_field(j, "console_output");
  m.allow_host_args = bool_field(j, "allow_host_args");
  if (m.entrypoint.empty()) throw FormatError("manifest: empty entrypoint");
  if (m.workdir.empty() || m.workdir.front() != '/')
    throw FormatError("manifest: workdir must be an absolute path");
  for (const std::string& e : m.env)
    if (e.find('=') == std::string::npos || e.front() == '=')
      throw FormatError("manifest: env entry '" + e + "' is not KEY=VALUE");
  return m;
}

Manifest parse_manifest(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw FormatError("manifest: not valid JSON");
  return manifest_from_json(j);
}

}  // namespace shelter::images
