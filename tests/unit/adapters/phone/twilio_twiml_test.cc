// The TwiML documents the voice webhooks answer with.

#include "phone/twilio_twiml.h"

#include <gtest/gtest.h>

namespace switchboard::adapters::twilio {
namespace {

constexpr char kProlog[] = R"(<?xml version="1.0" encoding="UTF-8"?>)";

TEST(TwilioTwiml, EmptyAndHangup) {
  EXPECT_EQ(empty_twiml(), std::string(kProlog) + "<Response/>");
  EXPECT_EQ(hangup_twiml(), std::string(kProlog) + "<Response><Hangup/></Response>");
}

TEST(TwilioTwiml, DialsASipAgentWithSipAndAPhoneAgentWithNumber) {
  DialTwiml dial{"sip:alice@pbx.example.com;transport=tls", "https://h.example/twilio/voice/dial?a=1&b=2",
                 std::chrono::seconds(25)};
  EXPECT_EQ(dial_twiml(dial),
            std::string(kProlog) +
                R"(<Response><Dial action="https://h.example/twilio/voice/dial?a=1&amp;b=2" )"
                R"(timeout="25"><Sip>sip:alice@pbx.example.com;transport=tls</Sip></Dial></Response>)");
  dial.agent_uri = "tel:+14155550123";
  dial.action_url.clear();
  EXPECT_EQ(dial_twiml(dial),
            std::string(kProlog) + R"(<Response><Dial timeout="25"><Number>+14155550123</Number></Dial></Response>)");
  dial.agent_uri = "http://evil.example";
  EXPECT_EQ(dial_twiml(dial), "");
  dial.agent_uri = "";
  EXPECT_EQ(dial_twiml(dial), "");
}

TEST(TwilioTwiml, BusySaysEscapedTextThenRecordsVoicemail) {
  BusyTwiml busy;
  busy.message = "Sorry <all> busy & \"away\"";
  busy.voice = "alice";
  EXPECT_EQ(busy_twiml(busy), std::string(kProlog) +
                                  "<Response><Say voice=\"alice\">Sorry &lt;all&gt; busy &amp; &quot;away&quot;</Say>"
                                  "<Hangup/></Response>");
  busy.voice.clear();
  busy.message = "Leave a message.";
  busy.voicemail = true;
  busy.max_length = std::chrono::seconds(60);
  busy.recording_callback = "https://h/rec";
  busy.transcription_callback = "https://h/tr";
  busy.after_recording_url = "https://h/hangup";
  EXPECT_EQ(busy_twiml(busy), std::string(kProlog) +
                                  "<Response><Say>Leave a message.</Say><Record action=\"https://h/hangup\" "
                                  "maxLength=\"60\" recordingStatusCallback=\"https://h/rec\" transcribe=\"true\" "
                                  "transcribeCallback=\"https://h/tr\"/><Hangup/></Response>");
}

}  // namespace
}  // namespace switchboard::adapters::twilio
