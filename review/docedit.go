package review

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/rules"
)

// The zone document is edited as text: new entries are spliced in at the
// places the parsed YAML nodes point to, so every comment, blank line,
// quoting style and the order of the document stay as the assessment wrote
// them, and the diff shows only what is proposed.

// parseDoc parses a YAML file and returns its top-level mapping, or nil.
func parseDoc(data []byte) *yaml.Node {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return root.Content[0]
}

// value returns the value of key in a mapping node, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyNode returns the key node of key in a mapping node, or nil.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// items returns a sequence node's elements, nil for anything else.
func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// edit replaces text[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// docFile is one model file being edited.
type docFile struct {
	src   rules.Source
	root  *yaml.Node
	lines []int // byte offset of each line's start; lines[0] is line 1
	edits []edit
	quote bool // the document double-quotes its strings
}

func newDocFile(src rules.Source) *docFile {
	f := &docFile{src: src, root: parseDoc(src.Data), lines: []int{0}}
	for i, c := range src.Data {
		if c == '\n' && i+1 < len(src.Data) {
			f.lines = append(f.lines, i+1)
		}
	}
	f.quote = f.detectQuotes()
	return f
}

// detectQuotes reports whether the document double-quotes its ids.
func (f *docFile) detectQuotes() bool {
	for _, list := range []string{"conduits", "zones"} {
		for _, it := range items(value(f.root, list)) {
			for _, k := range []string{"conduit_id", "zone_id"} {
				if v := value(it, k); v != nil {
					return v.Style == yaml.DoubleQuotedStyle
				}
			}
		}
	}
	return true
}

// line returns line n (1-based) without its newline, "" past the end.
func (f *docFile) line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	end := len(f.src.Data)
	if n < len(f.lines) {
		end = f.lines[n]
	}
	return strings.TrimRight(string(f.src.Data[f.lines[n-1]:end]), "\r\n")
}

// insertAfter queues lines of text to go after line n (at the end of the
// file, after a newline if the file lacks its last one).
func (f *docFile) insertAfter(n int, text string) {
	at := len(f.src.Data)
	if n < len(f.lines) {
		at = f.lines[n]
	}
	f.edits = append(f.edits, edit{at, at, text})
}

// offset is the byte offset of a node's position.
func (f *docFile) offset(n *yaml.Node) int { return f.lines[n.Line-1] + n.Column - 1 }

// lastLine is the last line a node's text occupies: its deepest last
// descendant, continued over the deeper-indented lines that follow (a
// plain scalar folded over several lines, a block scalar).
func (f *docFile) lastLine(n *yaml.Node, indent int) int {
	last := n.Line
	var walk func(*yaml.Node)
	walk = func(x *yaml.Node) {
		last = max(last, x.Line)
		if x.Kind == yaml.ScalarNode && (x.Style == yaml.LiteralStyle || x.Style == yaml.FoldedStyle) {
			last = max(last, x.Line+strings.Count(strings.TrimRight(x.Value, "\n"), "\n")+1)
		}
		for _, c := range x.Content {
			walk(c)
		}
	}
	walk(n)
	for l := last + 1; l <= len(f.lines); l++ {
		s := f.line(l)
		t := strings.TrimLeft(s, " ")
		if t == "" || strings.HasPrefix(t, "#") || len(s)-len(t) <= indent {
			break
		}
		last = l
	}
	return last
}

// str renders a string scalar in the document's quoting style.
func (f *docFile) str(s string) string {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: s, Tag: "!!str"}
	if f.quote {
		n.Style = yaml.DoubleQuotedStyle
	}
	b, _ := yaml.Marshal(n)
	return strings.TrimSuffix(string(b), "\n")
}

// list renders a flow sequence of strings: ["a", "b"].
func (f *docFile) list(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = f.str(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ruleLines writes a proposed rule as a protocols_allowed item at a dash
// indentation, with a comment saying where it comes from.
func (f *docFile) ruleLines(r *Rule, dash int) string {
	pad, key := strings.Repeat(" ", dash), strings.Repeat(" ", dash+2)
	var b strings.Builder
	fmt.Fprintf(&b, "%s# proposed by otsiem: %s\n", pad, r.evidence())
	if r.Note != "" {
		fmt.Fprintf(&b, "%s# %s\n", pad, r.Note)
	}
	fmt.Fprintf(&b, "%s- protocol: %s\n", pad, f.str(r.Protocol))
	if r.Unlisted {
		fmt.Fprintf(&b, "%stransport: %s\n", key, f.str(r.Transport))
	}
	fmt.Fprintf(&b, "%sport: %d\n", key, r.Port)
	fmt.Fprintf(&b, "%sdirection: %s\n", key, f.str(r.Direction))
	return b.String()
}

// evidence is a rule's one-line provenance.
func (r *Rule) evidence() string {
	return fmt.Sprintf("%s events on %d days, %s .. %s; %s; the model: %s", thousands(r.Events), r.Days, r.FirstSeen.UTC().Format("2006-01-02"),
		r.LastSeen.UTC().Format("2006-01-02"), r.pairs(3, " -> "), strings.Join(r.Reasons, ", "))
}

// pairs names the rule's first n flows' endpoints, "HIST-01 -> PLC-01, …".
func (r *Rule) pairs(n int, arrow string) string {
	var out []string
	for i, fl := range r.Flows {
		if i == n {
			out = append(out, fmt.Sprintf("and %d more", len(r.Flows)-n))
			break
		}
		out = append(out, fl.From()+arrow+fl.To())
	}
	return strings.Join(out, ", ")
}

// conduitLines writes a proposed conduit as a conduits item.
func (f *docFile) conduitLines(c *Conduit, dash, ruleDash int) string {
	pad, key := strings.Repeat(" ", dash), strings.Repeat(" ", dash+2)
	var b strings.Builder
	fmt.Fprintf(&b, "%s# proposed by otsiem: the baseline crosses between %s and %s, which no conduit joins\n", pad, c.Zones[0], c.Zones[1])
	fmt.Fprintf(&b, "%s- conduit_id: %s\n", pad, f.str(c.ID))
	fmt.Fprintf(&b, "%sname: %s\n", key, f.str(c.Name))
	fmt.Fprintf(&b, "%sconnects: %s\n", key, f.list(c.Zones))
	if c.SL >= 0 {
		fmt.Fprintf(&b, "%ssecurity_level: %s\n", key, f.str("SL "+strconv.Itoa(c.SL)))
	}
	fmt.Fprintf(&b, "%sprotocols_allowed:\n", key)
	for _, r := range c.Rules {
		b.WriteString(f.ruleLines(r, ruleDash))
	}
	fmt.Fprintf(&b, "%scontrols: []  # to be decided: the firewall and inspection that enforce it\n", key)
	return b.String()
}

// findItem returns the item of a top-level list whose id key has the value.
func (f *docFile) findItem(list, idKey, id string) *yaml.Node {
	for _, it := range items(value(f.root, list)) {
		if v := value(it, idKey); v != nil && strings.TrimSpace(v.Value) == id {
			return it
		}
		if v := value(it, "id"); v != nil && strings.TrimSpace(v.Value) == id {
			return it
		}
	}
	return nil
}

// appendItem adds lines (a rendered item) to the block sequence held by
// key in mapping m, after its last item; or, when the key has no items,
// as a new block sequence under it. keyIndent is the column of m's keys.
func (f *docFile) appendItem(m *yaml.Node, key string, keyIndent int, render func(dash int) string) error {
	k, v := keyNode(m, key), value(m, key)
	switch {
	case k == nil: // after the mapping's last value
		last := f.lastLine(m.Content[len(m.Content)-1], keyIndent)
		f.insertAfter(last, strings.Repeat(" ", keyIndent)+key+":\n"+render(keyIndent+2))
	case v.Kind == yaml.SequenceNode && len(v.Content) > 0 && v.Style&yaml.FlowStyle == 0:
		lastItem := v.Content[len(v.Content)-1]
		dash := v.Column - 1
		text := render(dash)
		if len(v.Content) > 1 && strings.TrimSpace(f.line(lastItem.Line-1)) == "" {
			text = "\n" + text // the items are set apart by blank lines
		}
		f.insertAfter(f.lastLine(lastItem, dash), text)
	case v.Kind == yaml.SequenceNode && len(v.Content) == 0 || v.Tag == "!!null":
		// "key: []" or "key:" with nothing: the items go under the key.
		if v.Line != k.Line {
			return fmt.Errorf("%s:%d: %s: cannot place new items", f.src.Name, k.Line, key)
		}
		if v.Kind == yaml.SequenceNode {
			end := strings.Index(f.line(v.Line)[v.Column-1:], "]")
			start := f.offset(v)
			f.edits = append(f.edits, edit{start, start + end + 1, ""})
		}
		f.insertAfter(k.Line, render(keyIndent+2))
	default:
		return fmt.Errorf("%s:%d: %s is not a block list otsiem can add to; add the proposal by hand (otsiem propose --format yaml)", f.src.Name, k.Line, key)
	}
	return nil
}

// blankBetween reports whether the items of a top-level list are set
// apart by blank lines.
func (f *docFile) blankBetween(list string) bool {
	its := items(value(f.root, list))
	if len(its) < 2 {
		its = items(value(f.root, "zones"))
	}
	return len(its) > 1 && strings.TrimSpace(f.line(its[len(its)-1].Line-1)) == ""
}

// addToList adds a string to a list such as allowed_conduits: a flow
// list on one line gets it before its "]", a block list a new item.
func (f *docFile) addToList(m *yaml.Node, key string, keyIndent int, s string) error {
	v := value(m, key)
	if v == nil {
		return nil // the compiler takes the zone's conduits from the conduits
	}
	if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle != 0 {
		line := f.line(v.Line)
		close := closingBracket(line, v.Column-1)
		if close < 0 {
			return fmt.Errorf("%s:%d: %s spans several lines; add %s by hand", f.src.Name, v.Line, key, s)
		}
		at := f.lines[v.Line-1] + close
		sep := ", "
		if len(v.Content) == 0 {
			sep = ""
		}
		f.edits = append(f.edits, edit{at, at, sep + f.str(s)})
		return nil
	}
	return f.appendItem(m, key, keyIndent, func(dash int) string { return strings.Repeat(" ", dash) + "- " + f.str(s) + "\n" })
}

// closingBracket finds the "]" that closes the "[" at line[open], skipping
// quoted strings; -1 when the list does not close on this line.
func closingBracket(line string, open int) int {
	depth := 0
	var quote byte
	for i := open; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// result applies the queued edits.
func (f *docFile) result() []byte {
	es := slices.Clone(f.edits)
	slices.SortStableFunc(es, func(a, b edit) int { return a.start - b.start })
	var out bytes.Buffer
	at, data := 0, f.src.Data
	for _, e := range es {
		out.Write(data[at:e.start])
		if e.start == len(data) && len(data) > 0 && data[len(data)-1] != '\n' && at < e.start {
			out.WriteByte('\n') // the file's last line had no newline
		}
		out.WriteString(e.text)
		at = e.end
	}
	out.Write(data[at:])
	return out.Bytes()
}

// Edit applies a proposal to the plant's model files: rules added to the
// protocols_allowed of their conduits, new conduits after the document's
// conduits (and in the allowed_conduits of their zones, where the zones
// list them). It returns every file of the model, edited or not, in the
// same order.
func (p *Plant) Edit(prop *Proposal) ([]rules.Source, error) {
	files := make([]*docFile, len(p.Sources))
	byName := map[string]*docFile{}
	for i, s := range p.Sources {
		files[i] = newDocFile(s)
		byName[s.Name] = files[i]
	}
	for _, r := range prop.Rules {
		if r.NewConduit {
			continue
		}
		c := p.Model.Conduit(r.Conduit)
		f := byName[c.Pos.File]
		item := f.findItem("conduits", "conduit_id", c.ID)
		if item == nil {
			return nil, fmt.Errorf("%s: conduit %s not found", c.Pos.File, c.ID)
		}
		if err := f.appendItem(item, f.rulesKey(item), item.Column-1, func(dash int) string { return f.ruleLines(r, dash) }); err != nil {
			return nil, err
		}
	}
	if len(prop.Conduits) > 0 {
		f := p.conduitFile(byName)
		ruleDash := f.ruleIndent()
		// All new conduits go in one place, after the last one there is.
		if err := f.appendItem(f.root, "conduits", 0, func(dash int) string {
			var b strings.Builder
			for i, c := range prop.Conduits {
				if i > 0 && f.blankBetween("conduits") {
					b.WriteString("\n")
				}
				b.WriteString(f.conduitLines(c, dash, dash+2+ruleDash))
			}
			return b.String()
		}); err != nil {
			return nil, err
		}
		for _, c := range prop.Conduits {
			for _, z := range c.zones {
				zf := byName[z.Pos.File]
				if item := zf.findItem("zones", "zone_id", z.ID); item != nil {
					if err := zf.addToList(item, "allowed_conduits", item.Column-1, c.ID); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	out := make([]rules.Source, len(files))
	for i, f := range files {
		out[i] = rules.Source{Name: f.src.Name, Data: f.result()}
	}
	return out, nil
}

// rulesKey is the key an existing conduit holds its rules under.
func (f *docFile) rulesKey(conduit *yaml.Node) string {
	if value(conduit, "rules") != nil && value(conduit, "protocols_allowed") == nil {
		return "rules"
	}
	return "protocols_allowed"
}

// ruleIndent is how far a conduit's rule dashes sit right of its keys in
// this document (2 unless the document says otherwise).
func (f *docFile) ruleIndent() int {
	for _, c := range items(value(f.root, "conduits")) {
		if v := value(c, f.rulesKey(c)); v != nil && v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 {
			return v.Column - c.Column
		}
	}
	return 2
}

// conduitFile is the file new conduits go to: the one holding the
// conduits, else the zone document.
func (p *Plant) conduitFile(byName map[string]*docFile) *docFile {
	if cs := p.Model.Conduits(); len(cs) > 0 {
		return byName[cs[0].Pos.File]
	}
	for _, s := range p.Sources {
		if f := byName[s.Name]; value(f.root, "conduits") != nil {
			return f
		}
	}
	return byName[p.Model.Zones()[0].Pos.File]
}

// Diff returns a unified diff from the plant's files to the edited ones,
// one file after the other, with paths relative to the model directory
// under a/ and b/ (apply it there with `patch -p1` or `git apply`).
func (p *Plant) Diff(edited []rules.Source) string {
	var b strings.Builder
	for i, s := range p.Sources {
		if bytes.Equal(s.Data, edited[i].Data) {
			continue
		}
		name := filepath.ToSlash(p.rel(s.Name))
		b.WriteString(udiff.Unified("a/"+name, "b/"+name, string(s.Data), string(edited[i].Data)))
	}
	return b.String()
}

// rel is a model file's path relative to the model directory.
func (p *Plant) rel(name string) string {
	if r, err := filepath.Rel(p.Path, name); err == nil && !strings.HasPrefix(r, "..") && r != "." {
		return r
	}
	return filepath.Base(name)
}

// thousands writes n with thousands separators.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
