// Package storage keeps otsiem's events, findings and dead letters in
// ClickHouse: the schema as embedded, versioned migrations ([Migrate]), the
// connection to a ClickHouse server or to the embedded engine ([Open]),
// column-wise insert batches built from the stage contracts of package
// ingest/event ([Events], [Findings], [DeadLetters], [Insert]), the store
// stage that moves JetStream into the tables ([Service]), and every named
// query the CLI, dashboards and reports run ([Queries], [RunQuery]).
//
// All of it goes through clickhouse-go: with no server configured, [Open]
// starts the in-process engine (package chdb) and reaches it over the
// in-process HTTP interface of package embedded.
//
// README.md in this directory describes the tables, why redelivery never
// shows duplicates, and the equivalent schema for a ClickHouse cluster.
package storage
