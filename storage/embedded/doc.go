// Package embedded serves the ClickHouse HTTP interface over the in-process
// engine of package chdb, so that clickhouse-go (through
// Options.TransportFunc, see [ClickHouseOptions]) and HTTP tools such as curl
// or Grafana (through [Serve] on a loopback port) use the embedded engine as
// they would a ClickHouse server.
//
// What is served: the query in the URL parameter "query" and/or the POST
// body; "database"; "default_format"; every other non-reserved parameter as a
// query setting; "param_<name>" query parameters; INSERT data in the body
// (any bytes, through the engine's stream-insert API); request bodies in
// gzip or deflate, and responses in them with enable_http_compression=1;
// exceptions as non-200 responses with the X-ClickHouse-Exception-Code
// header; GET /ping. Not served: sessions, external tables.
//
// A [Handler] grants every right; otsiem reaches it in process. To the
// network it is served behind [Guard]: a user and password for each of two
// roles ([RoleReader] for dashboards and the CLI, [RoleWriter] for inserts),
// no request from a web page (Origin header), and for both roles no access
// to the host's files, URLs or other outside sources (see screen.go).
//
// Native output is at protocol revision 0 (no block info, no custom
// serialization flags), which is what the engine produces: the handler
// answers clickhouse-go's HTTP greeting with revision 0, after which
// clickhouse-go decodes every block at that revision.
package embedded
