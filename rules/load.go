package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one model file's name and content.
type Source struct {
	Name string
	Data []byte
}

// Load reads a model from a directory (every *.yaml, *.yml and *.csv file in
// it, in name order) or from a single file, checks and compiles it. On
// errors it returns a *LoadError listing every diagnostic.
func Load(path string) (*Model, error) {
	srcs, err := ReadSources(path)
	if err != nil {
		return nil, err
	}
	return Compile(srcs...)
}

// ReadSources reads the files Load compiles: every *.yaml, *.yml and *.csv
// file of a directory, in name order, or the one file given.
func ReadSources(path string) ([]Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".csv":
				if !e.IsDir() {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("load model: no .yaml, .yml or .csv files in %s", path)
		}
	}
	srcs := make([]Source, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		srcs = append(srcs, Source{Name: f, Data: data})
	}
	return srcs, nil
}

// Compile checks and compiles a model from sources: YAML documents, and CSV
// asset inventories for names ending in .csv.
func Compile(srcs ...Source) (*Model, error) {
	var d diags
	var doc document
	for _, s := range srcs {
		if strings.EqualFold(filepath.Ext(s.Name), ".csv") {
			doc.assets = append(doc.assets, parseAssetCSV(s.Name, s.Data, &d)...)
		} else {
			parseYAML(s.Name, s.Data, &doc, &d)
		}
	}
	m := compile(&doc, &d)
	m.hash = hashSources(srcs)
	order := func(a, b Diagnostic) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	}
	slices.SortStableFunc(d.list, order)
	if d.hasErrors() {
		return nil, &LoadError{Diagnostics: d.list}
	}
	m.diagnostics = d.list
	return m, nil
}

// hashSources is the model's version: SHA-256 over each source's base
// name and content, in the order given (Load's is name order), each framed
// by its length so no two different sets of files hash alike.
func hashSources(srcs []Source) string {
	h := sha256.New()
	for _, s := range srcs {
		name := filepath.Base(s.Name)
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(s.Data)))
		h.Write(n[:])
		h.Write(s.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Diagnostics returns the diagnostics of an error from Load or Compile, or
// nil when it carries none.
func Diagnostics(err error) []Diagnostic {
	var le *LoadError
	if errors.As(err, &le) {
		return le.Diagnostics
	}
	return nil
}

// assetColumns maps the header names asset-inventory exports use to ours.
var assetColumns = map[string]string{
	"name": "name", "asset": "name", "assetname": "name", "hostname": "name", "devicename": "name",
	"address": "address", "addresses": "address", "ip": "address", "ipaddress": "address",
	"ipaddresses": "address", "ips": "address", "ipv4": "address", "ipv6": "address",
	"zone": "zone", "zoneid": "zone", "securityzone": "zone",
	"role": "role", "type": "role", "devicetype": "role", "category": "role",
	"vendor": "vendor", "manufacturer": "vendor",
	"product": "product", "model": "product",
	"description": "description",
}

// parseAssetCSV reads an asset inventory: a header row naming the columns
// (name and address at least), then one asset per row. Several addresses
// in one cell are separated by spaces or semicolons; other columns are
// ignored, as exports carry many.
func parseAssetCSV(file string, data []byte, d *diags) []*assetDoc {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		csvError(file, err, d)
		return nil
	}
	cols := map[string]int{}
	for i, h := range header {
		if k, ok := assetColumns[normName(h)]; ok {
			if _, dup := cols[k]; !dup {
				cols[k] = i
			}
		}
	}
	line, _ := r.FieldPos(0)
	for _, need := range []string{"name", "address"} {
		if _, ok := cols[need]; !ok {
			d.errorf(Pos{File: file, Line: line, Col: 1}, "csv-header", "asset inventory header has no %s column (have %s)", need, strings.Join(header, ", "))
		}
	}
	if d.hasErrors() {
		return nil
	}
	var out []*assetDoc
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			csvError(file, err, d)
			return out
		}
		cell := func(k string) text {
			i, ok := cols[k]
			if !ok || i >= len(rec) {
				return text{}
			}
			l, c := r.FieldPos(i)
			return text{s: strings.TrimSpace(rec[i]), pos: Pos{File: file, Line: l, Col: c}}
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		l, _ := r.FieldPos(0)
		a := &assetDoc{pos: Pos{File: file, Line: l, Col: 1}, name: cell("name"), zone: cell("zone"),
			role: cell("role").s, vendor: cell("vendor").s, product: cell("product").s, desc: cell("description").s}
		if a.name.s == "" {
			d.errorf(a.pos, "missing", "asset row has no name")
			continue
		}
		addrs := cell("address")
		for _, f := range strings.FieldsFunc(addrs.s, func(r rune) bool { return r == ';' || r == ' ' || r == ',' || r == '|' }) {
			a.addresses = append(a.addresses, text{s: f, pos: addrs.pos})
		}
		out = append(out, a)
	}
}

func csvError(file string, err error, d *diags) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		d.errorf(Pos{File: file, Line: pe.Line, Col: pe.Column}, "syntax", "%v", pe.Err)
		return
	}
	d.errorf(Pos{File: file, Line: 1, Col: 1}, "syntax", "%v", err)
}
