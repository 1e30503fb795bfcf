# Twilio-compatible voice and SMS webhooks and the Messages API (docs/twilio.md).
# Its own target beside the SIP front of this folder; included from CMakeLists.txt.

add_library(switchboard_twilio STATIC
  ${CMAKE_CURRENT_LIST_DIR}/twilio_adapter.cc
  ${CMAKE_CURRENT_LIST_DIR}/twilio_outbound.cc
  ${CMAKE_CURRENT_LIST_DIR}/twilio_settings.cc
  ${CMAKE_CURRENT_LIST_DIR}/twilio_signature.cc
  ${CMAKE_CURRENT_LIST_DIR}/twilio_twiml.cc
  ${CMAKE_CURRENT_LIST_DIR}/twilio_voice.cc)
add_library(switchboard::adapter_twilio ALIAS switchboard_twilio)
target_include_directories(switchboard_twilio PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(switchboard_twilio PUBLIC switchboard::router switchboard::adapter_common
  PRIVATE spdlog::spdlog Boost::json)
