#pragma once

// The widget's files, compiled in from adapters/chat/widget/ (see CMakeLists.txt) so
// switchboardd serves them without an install step.

#include <string_view>

namespace switchboard::adapters::chat {

std::string_view widget_js();
std::string_view demo_html();

}  // namespace switchboard::adapters::chat
