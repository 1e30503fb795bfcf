#pragma once

// The WhatsApp Cloud API webhook body the social benchmarks post and parse.

#include <cstdint>
#include <string>

namespace switchboard::bench {

// One WhatsApp webhook with `batch` text messages, as Meta sends them.
inline std::string whatsapp_body(uint64_t first, int batch, uint64_t customers) {
  std::string contacts, messages;
  for (int i = 0; i < batch; ++i) {
    const uint64_t n = first + static_cast<uint64_t>(i);
    const std::string wa_id = std::to_string(16505550000ull + n % customers);
    if (i > 0) contacts += ",", messages += ",";
    contacts += R"({"profile":{"name":"Customer )" + wa_id + R"("},"wa_id":")" + wa_id + "\"}";
    messages += R"({"from":")" + wa_id + R"(","id":"wamid.bench)" + std::to_string(n) +
                R"(","timestamp":"1700000000","text":{"body":"Where is my order )" + std::to_string(n) +
                R"(?"},"type":"text"})";
  }
  return R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{)"
         R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",)"
         R"("phone_number_id":"106540352242922"},"contacts":[)" +
         contacts + R"(],"messages":[)" + messages + R"(]},"field":"messages"}]}]})";
}

}  // namespace switchboard::bench
