package dashboards_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/dashboards"
	"github.com/otsiem/otsiem/dashboards/zones"
)

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The provisioned data source is the one every panel names, over HTTP
// into the otsiem database; the dashboard provider reads where the
// compose file mounts json/.
func TestProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, UID string
			JSONData        map[string]any    `yaml:"jsonData"`
			SecureJSONData  map[string]string `yaml:"secureJsonData"`
		}
	}
	readYAML(t, "provisioning/datasources/otsiem.yaml", &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 2 {
		t.Fatalf("datasources: %+v", ds)
	}
	d := ds.Datasources[0]
	if d.UID != dashboards.DatasourceUID || d.Type != dashboards.DatasourceType || d.JSONData["protocol"] != "http" ||
		d.JSONData["defaultDatabase"] != "otsiem" || !strings.HasPrefix(d.SecureJSONData["password"], "${") {
		t.Errorf("datasource: %+v", d)
	}
	// otsiem's plugin: the same read-only user, secrets from the environment only.
	z := ds.Datasources[1]
	if z.UID != dashboards.ZonesDatasourceUID || z.Type != zones.PluginID || z.JSONData["clickhouseDatabase"] != "otsiem" ||
		z.JSONData["clickhouseUser"] != d.JSONData["username"] || !strings.HasPrefix(z.SecureJSONData["clickhousePassword"], "${") ||
		!strings.HasPrefix(z.SecureJSONData["natsPassword"], "${") || z.JSONData["natsPassword"] != nil {
		t.Errorf("plugin datasource: %+v", z)
	}
	var dp struct {
		Providers []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	readYAML(t, "provisioning/dashboards/otsiem.yaml", &dp)
	if len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path != "/var/lib/grafana/dashboards/otsiem" {
		t.Errorf("dashboard provider: %+v", dp)
	}
}

// The compose file's Grafana: a pinned grafana-oss image, the ClickHouse
// plugin pinned through Grafana's preinstall variable, the provisioning
// and the dashboards mounted, ports on loopback only, and no password
// with a default anywhere in the file.
func TestComposeGrafana(t *testing.T) {
	path := filepath.Join("..", "docker-compose.yml")
	var c struct {
		Services map[string]struct {
			Image       string
			Environment map[string]string
			Volumes     []string
			Ports       []string
		}
	}
	readYAML(t, path, &c)
	g, ok := c.Services["grafana"]
	if !ok {
		t.Fatal("no grafana service")
	}
	if !regexp.MustCompile(`^grafana/grafana-oss:\d+\.\d+\.\d+$`).MatchString(g.Image) {
		t.Errorf("image %q: want a pinned grafana/grafana-oss", g.Image)
	}
	if !regexp.MustCompile(`^grafana-clickhouse-datasource@\d+\.\d+\.\d+$`).MatchString(g.Environment["GF_PLUGINS_PREINSTALL_SYNC"]) {
		t.Errorf("plugin %q: want grafana-clickhouse-datasource@<version>", g.Environment["GF_PLUGINS_PREINSTALL_SYNC"])
	}
	if !strings.Contains(g.Environment["GF_SECURITY_ADMIN_PASSWORD"], ":?") {
		t.Errorf("admin password %q: want it from the environment, required", g.Environment["GF_SECURITY_ADMIN_PASSWORD"])
	}
	if g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"] != zones.PluginID {
		t.Errorf("unsigned plugins %q: want otsiem's plugin allowed, and only it", g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"])
	}
	for _, want := range []string{"./dashboards/provisioning:/etc/grafana/provisioning:ro", "./dashboards/json:/var/lib/grafana/dashboards/otsiem:ro",
		"./dashboards/plugin/dist:/var/lib/grafana/plugins/" + zones.PluginID + ":ro"} {
		found := false
		for _, v := range g.Volumes {
			found = found || v == want
		}
		if !found {
			t.Errorf("volume %s missing: %v", want, g.Volumes)
		}
	}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if name == "grafana" && !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %s beyond loopback", name, p)
			}
		}
	}
	b, _ := os.ReadFile(path)
	if m := regexp.MustCompile(`(?i)\w*PASSWORD\w*:-`).FindAll(b, -1); len(m) > 0 {
		t.Errorf("passwords with a default: %s", m)
	}
	// With Debian's docker-compose present, it validates the file too.
	if dc, err := exec.LookPath("docker-compose"); err == nil {
		cmd := exec.Command(dc, "-f", path, "config", "-q")
		cmd.Env = append(os.Environ(), "CLICKHOUSE_PASSWORD=x", "GRAFANA_CLICKHOUSE_PASSWORD=y", "GRAFANA_ADMIN_PASSWORD=z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose config: %v\n%s", err, out)
		}
	}
}
