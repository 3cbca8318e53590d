// Package dashboards is otsiem's Grafana dashboards as code: five
// dashboards built with the Grafana Foundation SDK (SOC view, zone x zone
// conduit matrix, monitor-mode review, diode health, compliance over
// time), every panel's SQL a named query of package storage rewritten for
// Grafana's ClickHouse data source (see panelSQL), and a query type for
// that data source, which the SDK lacks ([Query]).
//
// The generated JSON is committed under json/ and provisioned from
// provisioning/; nobody edits it by hand: change the Go code and run
// `go generate ./dashboards/...` (or `make dashboards`).
package dashboards

//go:generate go run ./generate -out json
