// Package embedded serves the ClickHouse HTTP interface over the in-process
// engine of package chdb, so that clickhouse-go (through
// Options.TransportFunc, see [ClickHouseOptions]) and HTTP tools such as curl
// or Grafana (through [Serve] on a loopback port) use the embedded engine as
// they would a ClickHouse server.
//
// What is served: the query in the URL parameter "query" and/or the POST
// body; "database"; "default_format"; every other non-reserved parameter as a
// query setting; "param_<name>" query parameters; INSERT data in the body
// (any bytes, through the engine's stream-insert API); exceptions as non-200
// responses with the X-ClickHouse-Exception-Code header; GET /ping.
// Not served: HTTP compression, sessions, external tables.
//
// Native output is at protocol revision 0 (no block info, no custom
// serialization flags), which is what the engine produces: the handler
// answers clickhouse-go's HTTP greeting with revision 0, after which
// clickhouse-go decodes every block at that revision.
package embedded
