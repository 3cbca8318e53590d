package review

import (
	"fmt"
	"strings"

	"github.com/otsiem/otsiem/rules"
)

// Verify compiles the edited model files and judges every proposed flow
// again under them: the model must load, and each flow must be allowed.
// A flow whose events named no function is judged with the functions its
// rule lists, as DPI would identify them. It returns the edited model.
func (p *Plant) Verify(prop *Proposal, edited []rules.Source) (*rules.Model, error) {
	m, err := rules.Compile(edited...)
	if err != nil {
		var lines []string
		for _, d := range rules.Diagnostics(err) {
			lines = append(lines, d.String())
		}
		return nil, fmt.Errorf("the proposed model does not load:\n  %s", strings.Join(lines, "\n  "))
	}
	for _, r := range prop.Rules {
		for _, fl := range r.Flows {
			for _, row := range fl.rows {
				f := row.flow
				if f.FunctionCode < 0 && f.Function == "" {
					switch {
					case len(fl.codes) > 0:
						f.FunctionCode = fl.codes[0]
					case len(fl.names) > 0:
						f.Function = fl.names[0]
					}
				}
				if d := m.Evaluate(f); !d.Allowed {
					return nil, fmt.Errorf("under the proposed model, %s -> %s %s is still %s", f.Src, f.Dst, fl.Service(), d.Reason)
				}
			}
		}
	}
	return m, nil
}
