#pragma once

namespace switchboard::adapters::email {

// g_mime_init(), once per process; every GMime user calls this first.
void ensure_gmime();

}  // namespace switchboard::adapters::email
