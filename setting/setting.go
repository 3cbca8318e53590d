// Package setting holds what the stages' configuration types share, so that
// each stage can declare its own YAML section and package config only
// composes them:
//
//   - FieldError, the error a stage's Validate returns: it names the
//     offending key by its path below the stage's section
//     ("listeners[0].framing"), and package config turns the path into the
//     value's file:line:col;
//   - value types that read and check themselves while the YAML is decoded
//     (ByteSize, Prefix), their errors pointing at the value;
//   - the TLS file sets (ClientTLS, ServerTLS);
//   - the struct tag `config:"path"`, which marks a file or directory
//     setting: a relative path written in a configuration file is resolved
//     against that file's directory (package config does it).
package setting

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a setting that cannot work. Path names the key below the
// section whose Validate found it, in the file's own spelling: keys joined
// by dots, list indexes and map keys in brackets
// ("listeners[0].tls.cert_file", "severities[new_pair]"); "" is the section
// itself.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Errorf returns a FieldError at path.
func Errorf(path, format string, args ...any) error {
	return &FieldError{Path: path, Err: fmt.Errorf(format, args...)}
}

// Join joins two paths: Join("listeners[0]", "tls.cert_file") is
// "listeners[0].tls.cert_file", Join("severities", "[x]") "severities[x]".
func Join(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	}
	return parent + "." + child
}

// Under moves the errors in err (one, or several joined by errors.Join)
// below parent: a FieldError's path is joined to parent, any other error
// becomes a FieldError at parent. Nil stays nil.
func Under(parent string, err error) error {
	if err == nil {
		return nil
	}
	fields := Fields(err)
	errs := make([]error, len(fields))
	for i, f := range fields {
		errs[i] = &FieldError{Path: Join(parent, f.Path), Err: f.Err}
	}
	return errors.Join(errs...)
}

// Fields flattens err into field errors, in order: joined errors are
// split, and an error that is no FieldError is one with an empty path.
func Fields(err error) []*FieldError {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe == err {
		return []*FieldError{fe}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*FieldError
		for _, e := range j.Unwrap() {
			out = append(out, Fields(e)...)
		}
		return out
	}
	return []*FieldError{{Err: err}}
}

// NodeError is a value that cannot be read, for an UnmarshalYAML to return:
// yaml reports it with the others it finds, and package config prints it
// at the node's line and column.
func NodeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: column %d: %s", n.Line, n.Column, fmt.Sprintf(format, args...))}}
}
