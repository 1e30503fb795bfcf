#include <switchboard/router/adapter.h>

namespace switchboard::router {

Status AdapterRegistry::add(std::unique_ptr<AdapterFactory> factory) {
  auto name = factory->name();
  if (factories_.contains(name)) {
    return already_exists("name", "an adapter factory named '" + name + "' is already registered");
  }
  factories_.emplace(std::move(name), std::move(factory));
  return ok_status();
}

AdapterFactory* AdapterRegistry::find(const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<std::string> AdapterRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : factories_) out.push_back(name);
  return out;
}

}  // namespace switchboard::router
