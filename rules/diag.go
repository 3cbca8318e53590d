package rules

import (
	"fmt"
	"strings"
)

// Severity says whether a diagnostic makes a model unusable.
type Severity string

// Diagnostic severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	// SeverityInfo marks text kept as documentation: true, but not checked.
	SeverityInfo Severity = "info"
)

// Pos is a position in a model source file; Line and Col count from 1.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one load error or lint warning, tied to where it was found.
type Diagnostic struct {
	Pos
	Severity Severity `json:"severity"`
	// Code is a short stable identifier of the check, for tools and suppression.
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Message)
}

// LoadError is returned when a model has errors; it carries every diagnostic
// found, warnings included, in source order.
type LoadError struct {
	Diagnostics []Diagnostic
}

func (e *LoadError) Error() string {
	var errs []string
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			errs = append(errs, d.String())
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Sprintf("%d errors:\n%s", len(errs), strings.Join(errs, "\n"))
}

// diags collects diagnostics while a model is loaded.
type diags struct {
	list []Diagnostic
}

func (d *diags) errorf(p Pos, code, format string, args ...any) {
	d.list = append(d.list, Diagnostic{Pos: p, Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (d *diags) warnf(p Pos, code, format string, args ...any) {
	d.list = append(d.list, Diagnostic{Pos: p, Severity: SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (d *diags) notef(p Pos, code, format string, args ...any) {
	d.list = append(d.list, Diagnostic{Pos: p, Severity: SeverityInfo, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (d *diags) hasErrors() bool {
	for _, x := range d.list {
		if x.Severity == SeverityError {
			return true
		}
	}
	return false
}
