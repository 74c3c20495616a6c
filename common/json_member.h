#pragma once
// Members of untrusted JSON, read without nlohmann's exceptions or its
// undefined behaviour for a missing key of a const object: what is absent or
// of another kind reads as null (or an empty string), which callers refuse.
// Header-only: include it from a target that links nlohmann_json.
#include <nlohmann/json.hpp>
#include <string>

namespace shelter {

inline const nlohmann::json& json_member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json absent;
  if (!object.is_object()) return absent;
  auto it = object.find(key);
  return it == object.end() ? absent : *it;
}

inline std::string json_string_member(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = json_member(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

}  // namespace shelter
