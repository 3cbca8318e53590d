package correlate

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// TestFunctionCataloguesMatchDecoders keeps rules' "decoded" marks true to
// what the decoders yield: a protocol's functions count as decoded when
// some decoder's golden output names one that the protocol's catalogue
// identifies. validate's function-unverifiable warning relies on it. When
// a decoder starts naming a protocol's functions, mark its catalogue
// decoded in rules/protocols.go.
func TestFunctionCataloguesMatchDecoders(t *testing.T) {
	files, _ := filepath.Glob("../ingest/decode/*/testdata/*.golden.jsonl")
	if len(files) == 0 {
		t.Fatal("no decoder golden files")
	}
	seen := map[string]bool{} // canonical protocol → a function identified
	apps := map[string]bool{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev event.Event
			if err := event.Decode(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			canon, known := rules.CanonicalProtocol(ev.AppProtocol)
			if _, has := rules.FunctionCatalogue(ev.AppProtocol); !known || !has {
				continue
			}
			apps[canon] = true
			if rules.IdentifiesFunction(Flow(&ev)) {
				seen[canon] = true
			}
		}
		f.Close()
	}
	for app := range apps {
		decoded, _ := rules.FunctionCatalogue(app)
		switch {
		case seen[app] && !decoded:
			t.Errorf("decoders name %s functions: mark its catalogue decoded in rules/protocols.go", app)
		case !seen[app] && decoded:
			t.Errorf("no decoder's golden output names a %s function rules can identify, yet its catalogue is marked decoded", app)
		}
	}
	for _, app := range []string{"modbus", "dnp3", "enip", "s7"} {
		if !seen[app] {
			t.Errorf("no golden output names a %s function", app)
		}
	}
}

// TestCataloguesAgree checks that the model's function catalogue knows
// every function a decoder can name, with the same code: a name the
// judgement did not know would be a function it cannot verify, and another
// code another function. EtherNet/IP's encapsulation commands ("enip") are
// not functions the model judges, so they are not checked.
func TestCataloguesAgree(t *testing.T) {
	for _, proto := range []string{"modbus", "dnp3", "cip", "s7", "iec104", "bacnet", "opcua"} {
		fns := decode.Catalogue(proto)
		if len(fns) == 0 {
			t.Errorf("%s: decode has no catalogue", proto)
		}
		for _, f := range fns {
			code := -1
			if f.Code.OK {
				code = int(f.Code.V)
			}
			if !rules.KnowsFunction(proto, f.Name) {
				t.Errorf("%s: the model's catalogue does not know %q (code %d)", proto, f.Name, code)
			}
			if c, ok := rules.FunctionCode(proto, f.Name); ok && c != code {
				t.Errorf("%s %q: decode code %d, model code %d", proto, f.Name, code, c)
			}
		}
	}
}
