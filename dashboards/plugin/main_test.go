package main

import (
	"os"
	"os/exec"
	"testing"
)

// module.js loaded as Grafana loads it (AMD) with stand-ins for the
// packages Grafana shares, its data source and editors exercised by
// testdata/module_harness.js under Node. Without node the test skips,
// unless CI=true.
func TestModuleJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed")
	}
	out, err := exec.CommandContext(t.Context(), node, "testdata/module_harness.js", "static/module.js").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
