package correlate

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/rules"
)

// TestCataloguesAgree checks that the model's function catalogue knows every
// function a decoder can name, with the same code: a name the judgement did
// not know would be a function it cannot verify, and a different code would
// judge another function.
func TestCataloguesAgree(t *testing.T) {
	for _, proto := range []string{"modbus", "dnp3", "cip", "enip", "s7", "iec104", "bacnet", "opcua"} {
		fns := decode.Catalogue(proto)
		if len(fns) == 0 {
			t.Errorf("%s: decode has no catalogue", proto)
		}
		for _, f := range fns {
			code, known := rules.Function(proto, f.Name)
			switch {
			case !known:
				t.Errorf("%s: the model's catalogue does not know %q", proto, f.Name)
			case code >= 0 && (!f.Code.OK || int(f.Code.V) != code):
				t.Errorf("%s %q: decode code %v, model code %d", proto, f.Name, f.Code, code)
			}
		}
	}
}
