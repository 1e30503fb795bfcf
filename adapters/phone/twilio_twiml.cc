#include "twilio_twiml.h"

namespace switchboard::adapters::twilio {
namespace {

constexpr char kProlog[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

std::string response(const std::string& verbs) {
  if (verbs.empty()) return std::string(kProlog) + "<Response/>";
  return std::string(kProlog) + "<Response>" + verbs + "</Response>";
}

std::string attribute(std::string_view name, std::string_view value) {
  if (value.empty()) return {};
  return " " + std::string(name) + "=\"" + xml_escape(value) + "\"";
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string empty_twiml() { return response({}); }

std::string hangup_twiml() { return response("<Hangup/>"); }

std::string dial_twiml(const DialTwiml& dial) {
  std::string noun;
  const std::string_view uri = dial.agent_uri;
  if (uri.starts_with("sip:") || uri.starts_with("sips:")) {
    noun = "<Sip>" + xml_escape(uri) + "</Sip>";
  } else if (uri.starts_with("tel:") && uri.size() > 4) {
    noun = "<Number>" + xml_escape(uri.substr(4)) + "</Number>";
  } else {
    return {};
  }
  return response("<Dial" + attribute("action", dial.action_url) +
                  attribute("timeout", std::to_string(dial.timeout.count())) + ">" + noun + "</Dial>");
}

std::string busy_twiml(const BusyTwiml& busy) {
  std::string verbs = "<Say" + attribute("voice", busy.voice) + attribute("language", busy.language) + ">" +
                      xml_escape(busy.message) + "</Say>";
  if (busy.voicemail) {
    verbs += "<Record" + attribute("action", busy.after_recording_url) +
             attribute("maxLength", std::to_string(busy.max_length.count())) +
             attribute("recordingStatusCallback", busy.recording_callback);
    if (!busy.transcription_callback.empty()) {
      verbs += attribute("transcribe", "true") + attribute("transcribeCallback", busy.transcription_callback);
    }
    verbs += "/>";
  }
  return response(verbs + "<Hangup/>");
}

}  // namespace switchboard::adapters::twilio
