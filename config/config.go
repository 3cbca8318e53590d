// Package config reads otsiem's configuration file: one YAML format for
// `otsiem run` and for the ingest, correlate and store stages run apart.
//
// Each stage declares its own section's type, defaults and Validate in its
// package (ingest.Config, bus.Config, correlate.ServiceConfig,
// storage.Config, review.Config, report.Schedule); this package composes
// them into one file and reads it strictly: unknown keys, values of the
// wrong type and settings a stage's Validate refuses are errors with
// file:line:col, each pointing at the value. ${VAR} in a value is replaced
// by the environment variable, so secrets need not be written in the file.
// Relative paths in the file (the settings tagged `config:"path"`: model,
// data_dir, TLS and credential files, …) are relative to the file's
// directory.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/report"
	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/setting"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/embedded"
)

// Config is the whole configuration file.
type Config struct {
	// Site labels events; default: derived from the model's facility.
	Site string `yaml:"site"`
	// Model is the zone/conduit model directory (or file).
	Model string `yaml:"model" config:"path"`
	// DataDir holds the embedded NATS and ClickHouse data.
	DataDir string `yaml:"data_dir" config:"path"`
	// MemoryLimit is the memory the process aims to stay under (the Go
	// runtime's soft limit, GOMEMLIMIT); 0: none unless GOMEMLIMIT is set.
	MemoryLimit setting.ByteSize `yaml:"memory_limit"`
	LogLevel    string           `yaml:"log_level"`
	HTTP        HTTP             `yaml:"http"`
	// NATS says where the bus is; its embedded server's dir defaults to
	// <data_dir>/nats.
	NATS   bus.Config    `yaml:"nats"`
	Ingest ingest.Config `yaml:"ingest"`
	// Correlate: the correlator's settings, and how often the model files
	// are checked for changes.
	Correlate Correlate `yaml:"correlate"`
	// Storage: the embedded engine's path defaults to
	// <data_dir>/clickhouse, its users' passwords are kept in
	// <data_dir>/clickhouse-users.yaml, and memory_limit sets its memory
	// and the writer's held bytes.
	Storage storage.Config `yaml:"storage"`
	Review  review.Config  `yaml:"review"`
	// Reports are the scheduled compliance reports `otsiem run` and
	// `otsiem store` write once each period has closed.
	Reports []report.Schedule `yaml:"reports"`
}

// Correlate is the `correlate:` section.
type Correlate struct {
	correlate.ServiceConfig `yaml:",inline"`
	// ReloadEvery is how often the model files are checked for changes
	// (SIGHUP reloads at once); default 5s, negative disables.
	ReloadEvery time.Duration `yaml:"reload_every"`
}

// HTTP is the operations endpoint: /metrics and /healthz.
type HTTP struct {
	Address string `yaml:"address"` // default 127.0.0.1:9464; "off" disables it
}

// Default returns the configuration `otsiem run` uses without a file: the
// refinery example model, embedded NATS and ClickHouse under ./data, syslog
// on 127.0.0.1:5514 over UDP and TCP, metrics on 127.0.0.1:9464, every
// stage's defaults.
func Default() *Config {
	c := defaults()
	c.derive()
	return c
}

// defaults are the stages' defaults, before what derives from data_dir and
// memory_limit.
func defaults() *Config {
	return &Config{
		Model:     "examples/refinery",
		DataDir:   "data",
		LogLevel:  "info",
		HTTP:      HTTP{Address: "127.0.0.1:9464"},
		NATS:      bus.DefaultConfig(),
		Ingest:    ingest.DefaultConfig(),
		Correlate: Correlate{ServiceConfig: correlate.DefaultServiceConfig(), ReloadEvery: 5 * time.Second},
		Storage:   storage.DefaultConfig(),
		Review:    review.DefaultConfig(),
	}
}

// derive fills in what the file left empty and derives from data_dir and
// memory_limit.
func (c *Config) derive() {
	if c.NATS.Embedded.Dir == "" {
		c.NATS.Embedded.Dir = filepath.Join(c.DataDir, "nats")
	}
	e := &c.Storage.Embedded
	if e.Path == "" {
		e.Path = filepath.Join(c.DataDir, "clickhouse")
	}
	e.UsersFile = filepath.Join(c.DataDir, embedded.UsersFile)
	e.MaxMemory = c.EngineMemoryLimit()
	if limit := c.GoMemoryLimit(); c.Storage.Writer.MaxHeldBytes == 0 && limit > 0 {
		// Three streams, each holding about three times this in the heap:
		// a tenth of the Go runtime's share each.
		c.Storage.Writer.MaxHeldBytes = setting.ByteSize(min(limit/30, 64<<20))
	}
}

// Load reads a configuration file over the defaults. Relative paths in it
// are relative to the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(path, filepath.Dir(path), data)
}

// Parse reads a configuration from data; name is used in error messages,
// relative paths stay relative to the current directory.
func Parse(name string, data []byte) (*Config, error) { return parse(name, ".", data) }

func parse(name, dir string, data []byte) (*Config, error) {
	cfg := defaults()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s:1: %s", name, m[1], m[3])
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	var doc *yaml.Node
	if len(root.Content) > 0 {
		doc = root.Content[0]
		f := &file{name: name, dir: dir}
		if err := expandEnv(name, doc); err != nil {
			f.errs = append(f.errs, err)
		}
		f.walk(doc, reflect.TypeOf(cfg).Elem())
		if len(f.errs) > 0 {
			return nil, errors.Join(f.errs...)
		}
		// A listeners list in the file replaces the default listeners.
		if hasKey(doc, "ingest", "listeners") {
			cfg.Ingest.Listeners = nil
		}
		if err := doc.Decode(cfg); err != nil {
			return nil, typeErrors(name, doc, err)
		}
	}
	cfg.derive()
	return cfg, locate(name, doc, cfg.Validate())
}

// Validate reports settings that cannot work: each a setting.FieldError
// whose path starts at the file's top ("ingest.listeners[0].framing").
func (c *Config) Validate() error {
	errs := []error{
		setting.Under("nats", c.NATS.Validate()),
		setting.Under("ingest", c.Ingest.Validate()),
		setting.Under("correlate", c.Correlate.Validate()),
		setting.Under("storage", c.Storage.Validate()),
		setting.Under("review", c.Review.Validate()),
	}
	for i, r := range c.Reports {
		errs = append(errs, setting.Under(fmt.Sprintf("reports[%d]", i), r.Validate()))
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, setting.Errorf("log_level", "%q: want debug, info, warn or error", c.LogLevel))
	}
	if a := c.HTTP.Address; a != "" && a != "off" {
		if err := setting.CheckHostPort(a); err != nil {
			errs = append(errs, setting.Errorf("http.address", "%q: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

// GoMemoryLimit is the Go runtime's share of memory_limit (GOMEMLIMIT):
// all of it with a ClickHouse server, half of it beside the embedded
// engine (which gets a quarter, EngineMemoryLimit; its code and what
// neither counts take the rest). 0 without a memory_limit.
func (c *Config) GoMemoryLimit() int64 {
	if len(c.Storage.ClickHouse.Addresses) > 0 {
		return int64(c.MemoryLimit)
	}
	return int64(c.MemoryLimit) / 2
}

// EngineMemoryLimit is the embedded engine's share of memory_limit
// (ClickHouse's max_server_memory_usage): a quarter; 0 without a
// memory_limit or with a ClickHouse server.
func (c *Config) EngineMemoryLimit() int64 {
	if len(c.Storage.ClickHouse.Addresses) > 0 {
		return 0
	}
	return int64(c.MemoryLimit) / 4
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every scalar; an unset variable is an error.
func expandEnv(name string, n *yaml.Node) error {
	var errs []error
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
			n.Value = envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
				v, ok := os.LookupEnv(m[2 : len(m)-1])
				if !ok {
					errs = append(errs, fmt.Errorf("%s:%d:%d: environment variable %s is not set", name, n.Line, n.Column, m[2:len(m)-1]))
				}
				return v
			})
			if n.Tag == "!!null" || n.Tag == "" {
				n.Tag = "!!str"
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return errors.Join(errs...)
}

// file is a configuration file being read.
type file struct {
	name string
	dir  string // relative paths in it are relative to this
	errs []error
}

// walk goes over the document beside the type it decodes into: it reports
// keys that name no field, and resolves the relative paths of fields
// tagged `config:"path"` against the file's directory.
func (f *file) walk(n *yaml.Node, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t, nil)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			fd, ok := fields[k.Value]
			if !ok {
				names := slices.Sorted(maps.Keys(fields))
				f.errs = append(f.errs, fmt.Errorf("%s:%d:%d: unknown key %q (known: %s)", f.name, k.Line, k.Column, k.Value, strings.Join(names, ", ")))
				continue
			}
			if fd.Tag.Get("config") == "path" && v.Kind == yaml.ScalarNode && v.Value != "" && !filepath.IsAbs(v.Value) {
				v.Value = filepath.Join(f.dir, v.Value)
			}
			f.walk(v, fd.Type)
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for _, c := range n.Content {
			f.walk(c, t.Elem())
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			f.walk(n.Content[i], t.Elem())
		}
	}
}

// yamlFields maps a struct's YAML keys to its fields, with the keys of
// inline structs; fields tagged "-" have none.
func yamlFields(t reflect.Type, into map[string]reflect.StructField) map[string]reflect.StructField {
	if into == nil {
		into = map[string]reflect.StructField{}
	}
	for i := 0; i < t.NumField(); i++ {
		fd := t.Field(i)
		name, opts, _ := strings.Cut(fd.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !fd.IsExported():
		case opts == "inline":
			yamlFields(fd.Type, into)
		case name != "":
			into[name] = fd
		default:
			into[strings.ToLower(fd.Name)] = fd
		}
	}
	return into
}

func hasKey(n *yaml.Node, path ...string) bool {
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// lineRE matches yaml's "line N: …" errors, and setting.NodeError's
// "line N: column C: …".
var lineRE = regexp.MustCompile(`^line (\d+):(?: column (\d+):)? (.*)$`)

// typeErrors turns yaml's "line N: cannot unmarshal …" into file:line:col.
func typeErrors(name string, doc *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	for _, e := range te.Errors {
		m := lineRE.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: %s", name, e))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		col, err := strconv.Atoi(m[2])
		if err != nil {
			col = valueColumn(doc, line)
		}
		if path := pathAt(doc, "", line, col); path != "" {
			errs = append(errs, fmt.Errorf("%s:%d:%d: %s: %s", name, line, col, path, m[3]))
			continue
		}
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", name, line, col, m[3]))
	}
	return errors.Join(errs...)
}

// valueColumn finds the column of the last scalar on a line: the value
// that failed to decode.
func valueColumn(n *yaml.Node, line int) int {
	col := 1
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line == line && n.Kind == yaml.ScalarNode && n.Column > col {
			col = n.Column
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return col
}

// pathAt is the path of the value at line:col ("ingest.max_pending",
// "correlate.suppress[0].src"), "" when no value starts there.
func pathAt(n *yaml.Node, path string, line, col int) string {
	if n.Line == line && n.Column == col && n.Kind == yaml.ScalarNode {
		return path
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if p := pathAt(n.Content[i+1], setting.Join(path, n.Content[i].Value), line, col); p != "" {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p := pathAt(c, fmt.Sprintf("%s[%d]", path, i), line, col); p != "" {
				return p
			}
		}
	}
	return ""
}

// locate prints each of err's setting.FieldErrors at the position of the
// value its path names in the document, or, where the file does not set
// that key, of the nearest enclosing one it sets; sorted by position.
func locate(name string, doc *yaml.Node, err error) error {
	if err == nil {
		return nil
	}
	type located struct {
		line, col int
		err       error
	}
	var out []located
	for _, fe := range setting.Fields(err) {
		n := find(doc, fe.Path)
		if n == nil {
			out = append(out, located{err: fmt.Errorf("%s: %w", name, fe)})
			continue
		}
		out = append(out, located{n.Line, n.Column, fmt.Errorf("%s:%d:%d: %w", name, n.Line, n.Column, fe)})
	}
	slices.SortStableFunc(out, func(a, b located) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return a.col - b.col
	})
	errs := make([]error, len(out))
	for i, l := range out {
		errs[i] = l.err
	}
	return errors.Join(errs...)
}

// find returns the node a path names ("ingest.listeners[0].framing",
// "correlate.severities[new_pair]"), or the deepest node on the way there
// that the document has; nil without a document.
func find(n *yaml.Node, path string) *yaml.Node {
	for n != nil && path != "" {
		var seg string
		if strings.HasPrefix(path, "[") {
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return n
			}
			seg, path = path[1:end], path[end+1:]
		} else {
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			seg, path = path[:end], path[end:]
		}
		path = strings.TrimPrefix(path, ".")
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					next = n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// Example returns a commented example configuration, the one in the README.
func Example() []byte { return bytes.Clone(example) }

//go:embed otsiem.example.yaml
var example []byte
