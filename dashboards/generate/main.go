// Command generate writes the dashboards of package dashboards as JSON
// files, one per dashboard, for Grafana's file provisioning:
//
//	go run ./dashboards/generate [-out dashboards/json]
//
// (run by `go generate ./dashboards/...` and `make dashboards`).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/otsiem/otsiem/dashboards"
)

func main() {
	out := flag.String("out", "json", "directory to write the dashboards into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, s := range dashboards.All {
		b, err := s.JSON()
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, s.File), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
