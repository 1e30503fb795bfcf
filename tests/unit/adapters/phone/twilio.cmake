# Tests of the Twilio adapter (adapters/phone/twilio.cmake); included from CMakeLists.txt.
find_package(OpenSSL REQUIRED)
switchboard_add_test(adapter_twilio_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/twilio_signature_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/twilio_twiml_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/twilio_settings_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/twilio_adapter_test.cc
  LIBS switchboard::adapter_twilio OpenSSL::Crypto Boost::json
  LABELS unit)
target_include_directories(adapter_twilio_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit/adapters/common)
