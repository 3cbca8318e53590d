// Package storage keeps otsiem's events, findings and dead letters in
// ClickHouse: the schema as embedded, versioned migrations ([Migrate]), the
// connection to a ClickHouse server or to the embedded engine ([Open]), the
// batch [Writer], and every named query the CLI, dashboards and reports run.
//
// All of it goes through clickhouse-go: with no server configured, [Open]
// starts the in-process engine (package chdb) and reaches it over the
// in-process HTTP interface of package embedded.
package storage
