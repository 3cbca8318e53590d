// Command gpx_otsiem is otsiem's Grafana backend plugin, the data source
// otsiem-zones-datasource: Grafana starts it (hashicorp go-plugin over
// gRPC) and it answers queries, health checks, resources and live streams
// for every data source instance of this type. See README.md.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/otsiem/otsiem/dashboards/plugin/source"
	"github.com/otsiem/otsiem/dashboards/zones"
)

func main() {
	if err := datasource.Manage(zones.PluginID, source.New, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("otsiem plugin stopped", "error", err.Error())
		os.Exit(1)
	}
}
