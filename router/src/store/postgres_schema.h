#pragma once

// The PostgreSQL store's schema and its versioned migrations.

#include <pqxx/connection>

#include <switchboard/router/error.h>

namespace switchboard::router::store {

// The schema version this binary writes.
int postgres_schema_version();

// Brings the database up to postgres_schema_version() in one transaction, under an
// advisory lock so that nodes starting together migrate once. Refuses
// (kFailedPrecondition) a database whose schema is newer. Does not throw.
Status migrate_postgres(pqxx::connection& db);

}  // namespace switchboard::router::store
