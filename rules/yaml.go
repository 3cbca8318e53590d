package rules

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// walker reads YAML nodes strictly: every key must be known, every value of
// the expected shape, and each problem becomes a diagnostic at its position.
type walker struct {
	file string
	d    *diags
}

// text is a scalar with the position it came from.
type text struct {
	s   string
	pos Pos
}

func (w *walker) pos(n *yaml.Node) Pos { return Pos{File: w.file, Line: n.Line, Col: n.Column} }

func (w *walker) errorf(n *yaml.Node, code, format string, args ...any) {
	w.d.errorf(w.pos(n), code, format, args...)
}

// mapping calls field for each key of a mapping node; field reports whether
// it knew the key. Unknown and repeated keys are errors.
func (w *walker) mapping(n *yaml.Node, what string, field func(key string, v *yaml.Node) bool) bool {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		w.errorf(n, "type", "%s must be a mapping, not %s", what, kindName(n))
		return false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if seen[k.Value] {
			w.errorf(k, "duplicate-key", "%s: key %q given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if !field(k.Value, v) {
			w.errorf(k, "unknown-field", "%s: unknown field %q", what, k.Value)
		}
	}
	return true
}

// sequence calls item for each element of a sequence node. A null node is an
// empty sequence.
func (w *walker) sequence(n *yaml.Node, what string, item func(v *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		w.errorf(n, "type", "%s must be a list, not %s", what, kindName(n))
		return
	}
	for _, v := range n.Content {
		item(deref(v))
	}
}

// str reads a scalar as text; numbers and booleans are kept as written.
func (w *walker) str(n *yaml.Node, what string) text {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		w.errorf(n, "type", "%s must be a single value, not %s", what, kindName(n))
		return text{pos: w.pos(n)}
	}
	return text{s: strings.TrimSpace(n.Value), pos: w.pos(n)}
}

// strs reads a list of scalars.
func (w *walker) strs(n *yaml.Node, what string) []text {
	var out []text
	w.sequence(n, what, func(v *yaml.Node) { out = append(out, w.str(v, what+" entry")) })
	return out
}

// strOrStrs reads either one scalar or a list of scalars.
func (w *walker) strOrStrs(n *yaml.Node, what string) []text {
	if deref(n).Kind == yaml.ScalarNode && !isNull(n) {
		return []text{w.str(n, what)}
	}
	return w.strs(n, what)
}

// integer reads an integer scalar within [lo, hi].
func (w *walker) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	t := w.str(n, what)
	if t.s == "" {
		return 0, false
	}
	v, err := strconv.Atoi(t.s)
	if err != nil || v < lo || v > hi {
		w.d.errorf(t.pos, "value", "%s must be a whole number from %d to %d, not %q", what, lo, hi, t.s)
		return 0, false
	}
	return v, true
}

// boolean reads true or false.
func (w *walker) boolean(n *yaml.Node, what string) bool {
	t := w.str(n, what)
	switch strings.ToLower(t.s) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	w.d.errorf(t.pos, "value", "%s must be true or false, not %q", what, t.s)
	return false
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "empty"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "a document"
}
