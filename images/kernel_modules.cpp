#include "images/kernel_modules.h"

#include <algorithm>

#include "images/error.h"

namespace shelter::images {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    words.emplace_back(line.substr(start, end - start));
    pos = end;
  }
  return words;
}

bool is_comment_or_blank(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

}  // namespace

std::string module_name(std::string_view path_or_name) {
  size_t slash = path_or_name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path_or_name : path_or_name.substr(slash + 1);
  for (std::string_view suffix : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    if (base.ends_with(suffix)) {
      base.remove_suffix(suffix.size());
      break;
    }
  }
  std::string name(base);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

ModuleIndex ModuleIndex::parse(std::string_view modules_dep, std::string_view modules_softdep,
                               std::string_view modules_alias, std::string_view modules_builtin) {
  ModuleIndex index;
  for (std::string_view line : split_lines(modules_dep)) {
    if (is_comment_or_blank(line)) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      throw FormatError("modules.dep: line without 'module:'");
    Module module{std::string(line.substr(0, colon)), split_words(line.substr(colon + 1))};
    std::string name = module_name(module.path);
    if (!index.modules_.emplace(name, std::move(module)).second)
      throw FormatError("modules.dep: module " + name + " listed twice");
  }
  for (const auto& [name, module] : index.modules_)
    for (const std::string& dep : module.deps)
      if (!index.modules_.contains(module_name(dep)))
        throw FormatError("modules.dep: " + name + " depends on unlisted " + dep);

  for (std::string_view line : split_lines(modules_softdep)) {
    if (is_comment_or_blank(line)) continue;
    std::vector<std::string> words = split_words(line);
    if (words.size() < 2 || words[0] != "softdep")
      throw FormatError("modules.softdep: line is not 'softdep MODULE ...'");
    SoftDeps& soft = index.softdeps_[module_name(words[1])];
    std::vector<std::string>* list = &soft.pre;  // names before any "pre:"/"post:" count as pre
    for (size_t i = 2; i < words.size(); ++i) {
      if (words[i] == "pre:") list = &soft.pre;
      else if (words[i] == "post:") list = &soft.post;
      else list->push_back(words[i]);
    }
    index.softdep_lines_.emplace_back(line);
  }

  for (std::string_view line : split_lines(modules_alias)) {
    if (is_comment_or_blank(line)) continue;
    std::vector<std::string> words = split_words(line);
    if (words.size() != 3 || words[0] != "alias")
      throw FormatError("modules.alias: line is not 'alias NAME MODULE'");
    // Wildcard aliases match hardware ids, never a soft dependency's name.
    if (words[1].find_first_of("*?[") != std::string::npos) continue;
    std::string target = module_name(words[2]);
    index.alias_.emplace(words[1], target);
    index.alias_lines_.emplace_back(std::string(line), target);
  }

  for (std::string_view line : split_lines(modules_builtin)) {
    if (is_comment_or_blank(line)) continue;
    index.builtin_.insert(module_name(line));
    index.builtin_lines_.emplace_back(line);
  }
  return index;
}

std::vector<std::string> ModuleIndex::resolve(const std::string& name_or_alias) const {
  std::string name = module_name(name_or_alias);
  if (modules_.contains(name) || builtin_.contains(name)) return {name};
  std::vector<std::string> targets;
  auto [begin, end] = alias_.equal_range(name_or_alias);
  for (auto it = begin; it != end; ++it) targets.push_back(it->second);
  return targets;
}

void ModuleIndex::visit(const std::string& name, bool required, std::set<std::string>& visiting,
                        std::vector<ModuleLoad>& out) const {
  if (builtin_.contains(name)) return;
  auto module = modules_.find(name);
  if (module == modules_.end()) {
    if (required) throw FormatError("kernel module " + name + " is neither built in nor in modules.dep");
    return;
  }
  auto loaded = std::find_if(out.begin(), out.end(),
                             [&](const ModuleLoad& m) { return m.path == module->second.path; });
  if (loaded != out.end()) {
    loaded->required = loaded->required || required;
    return;
  }
  if (!visiting.insert(name).second) return;  // a soft dependency cycle

  auto soft = softdeps_.find(name);
  if (soft != softdeps_.end())
    for (const std::string& pre : soft->second.pre)
      for (const std::string& target : resolve(pre)) visit(target, false, visiting, out);
  for (const std::string& dep : module->second.deps) visit(module_name(dep), required, visiting, out);
  out.push_back(ModuleLoad{module->second.path, required});
  if (soft != softdeps_.end())
    for (const std::string& post : soft->second.post)
      for (const std::string& target : resolve(post)) visit(target, false, visiting, out);
  visiting.erase(name);
}

std::vector<ModuleLoad> ModuleIndex::load_order(const std::vector<std::string_view>& wanted) const {
  std::vector<ModuleLoad> out;
  std::set<std::string> visiting;
  for (std::string_view name : wanted) visit(module_name(name), true, visiting, out);
  return out;
}

std::string ModuleIndex::modules_dep_for(const std::set<std::string>& paths) const {
  std::string out;
  for (const auto& [name, module] : modules_) {
    if (!paths.contains(module.path)) continue;
    out += module.path + ":";
    for (const std::string& dep : module.deps) out += " " + dep;
    out += "\n";
  }
  return out;
}

std::string ModuleIndex::modules_softdep_for(const std::set<std::string>& paths) const {
  std::set<std::string> names;
  for (const std::string& path : paths) names.insert(module_name(path));
  std::string out;
  for (const std::string& line : softdep_lines_)
    if (names.contains(module_name(split_words(line).at(1)))) out += line + "\n";
  return out;
}

std::string ModuleIndex::modules_alias_for(const std::set<std::string>& paths) const {
  std::set<std::string> names;
  for (const std::string& path : paths) names.insert(module_name(path));
  std::string out;
  for (const auto& [line, target] : alias_lines_)
    if (names.contains(target)) out += line + "\n";
  return out;
}

std::string ModuleIndex::modules_builtin_text() const {
  std::string out;
  for (const std::string& line : builtin_lines_) out += line + "\n";
  return out;
}

}  // namespace shelter::images
