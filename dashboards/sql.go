package dashboards

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/otsiem/otsiem/storage"
)

// A panel's SQL is a named query of package storage rewritten for the
// Grafana ClickHouse data source, which does not take ClickHouse query
// parameters: each {name:Type} becomes one of the data source's macros
// ($__fromTime, $__toTime, $__interval_s) or a dashboard variable, and
// each list filter written by storage.In becomes $__conditionalAll over
// the variable, so that "All" drops the condition.

// listVariables are the dashboard variables behind the named queries'
// list filters.
var listVariables = map[string]string{
	"sites": "site", "zones": "zone", "conduits": "conduit", "severities": "severity", "diodes": "diode",
}

// Bind is what a panel puts in place of named query parameters, beyond
// the defaults (see panelSQL).
type Bind map[string]string

// defaultBinds are the parameters every panel binds the same way.
var defaultBinds = Bind{
	"from":    "$__fromTime",
	"to":      "$__toTime",
	"bucket":  "$__interval_s",
	"device":  "${device:singlequote}",
	"finding": "${finding:singlequote}",
	// the report's list of the diodes to show: the model's, as chosen
	"diodes": "(SELECT groupArray(diode) FROM model_diodes WHERE model_hash = " + storage.CurrentModel +
		" AND $__conditionalAll(diode IN (${diode:singlequote}), $diode))",
	// the report's list of enforcing devices: the model's firewalls
	"firewalls": "(SELECT groupArray(lower(device)) FROM model_devices WHERE model_hash = " + storage.CurrentModel + " AND role = 'firewall')",
}

var (
	inFilter = regexp.MustCompile(`\(empty\(\{(\w+):Array\(String\)\}\)((?: OR [\w.]+ IN \{\w+:Array\(String\)\})+)\)`)
	inTerm   = regexp.MustCompile(` OR ([\w.]+) IN \{(\w+):Array\(String\)\}`)
	param    = regexp.MustCompile(`\{(\w+):[A-Z][^{}]*\}`)
)

// panelSQL rewrites SQL made of named queries for a panel: list filters
// into $__conditionalAll (or, when bind names the list parameter, into
// what it binds: "1=1" drops the filter), then every parameter by bind or
// defaultBinds. A parameter neither binds is an error.
func panelSQL(sql string, bind Bind) (string, error) {
	var err error
	sql = inFilter.ReplaceAllStringFunc(sql, func(m string) string {
		sub := inFilter.FindStringSubmatch(m)
		if b, ok := bind[sub[1]]; ok {
			return b
		}
		v, ok := listVariables[sub[1]]
		if !ok {
			err = fmt.Errorf("list parameter %s has no dashboard variable", sub[1])
			return m
		}
		var conds []string
		for _, t := range inTerm.FindAllStringSubmatch(sub[2], -1) {
			if t[2] != sub[1] {
				err = fmt.Errorf("filter %q mixes parameters", m)
			}
			conds = append(conds, t[1]+" IN (${"+v+":singlequote})")
		}
		cond := conds[0]
		if len(conds) > 1 {
			cond = "(" + strings.Join(conds, " OR ") + ")"
		}
		return "$__conditionalAll(" + cond + ", $" + v + ")"
	})
	sql = param.ReplaceAllStringFunc(sql, func(m string) string {
		name := param.FindStringSubmatch(m)[1]
		if b, ok := bind[name]; ok {
			return b
		}
		if b, ok := defaultBinds[name]; ok {
			return b
		}
		err = fmt.Errorf("parameter %s is not bound", m)
		return m
	})
	return strings.TrimSpace(sql), err
}

// selectFrom composes a named query: the columns cols of its rows that
// pass the filters (storage.In terms on its columns), in the query's order.
func selectFrom(q storage.Query, cols string, filters ...string) string {
	sql := "SELECT " + cols + "\nFROM (" + q.SQL + "\n) AS " + q.Name
	if len(filters) > 0 {
		sql += "\nWHERE " + strings.Join(filters, " AND ")
	}
	return sql
}
