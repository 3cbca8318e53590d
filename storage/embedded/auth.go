package embedded

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Role is what a user of the HTTP interface served to the network may do.
// Requests that reach a [Handler] without one (otsiem's own, in process
// through [Transport]) have every right; serve a Handler to the network
// only behind [Guard].
type Role int

const (
	roleInProcess Role = iota
	// RoleReader may run one read statement at a time (SELECT, WITH, SHOW,
	// DESCRIBE, EXISTS, EXPLAIN), under the engine's readonly = 1, with
	// no function that reaches the host's files or the network and no
	// INTO OUTFILE: dashboards and the CLI.
	RoleReader
	// RoleWriter may also INSERT data (FORMAT Native, RowBinary, TSV, CSV,
	// JSONEachRow …) into a table by name: otsiem's own store. No DDL, no
	// TRUNCATE, no INSERT … SELECT, no table functions.
	RoleWriter
)

func (r Role) String() string {
	switch r {
	case RoleReader:
		return "reader"
	case RoleWriter:
		return "writer"
	}
	return "in-process"
}

type roleKey struct{}

func roleOf(ctx context.Context) Role {
	r, _ := ctx.Value(roleKey{}).(Role)
	return r
}

// AsRole serves h in process with role's rights, as [Guard] serves an
// authenticated network user: what a person types into `otsiem query`
// runs as the reader unless they ask to write.
func AsRole(h http.Handler, role Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey{}, role)))
	})
}

// Default user names.
const (
	DefaultReader = "otsiem_reader"
	DefaultWriter = "otsiem_writer"
)

// Guard serves h to the network: every request but /ping must carry the
// credentials of one of users (HTTP basic authentication, the
// X-ClickHouse-User and X-ClickHouse-Key headers, or the user and password
// URL parameters, as ClickHouse accepts them) and is then served in that
// user's role; requests carrying an Origin header, which browsers add to
// the cross-origin requests a web page makes, are refused, so that no web
// page opened on the host can use the interface. A wrong or missing
// password is answered 401 with ClickHouse's exception 516, an Origin 403
// with 497.
func Guard(h http.Handler, users Users) http.Handler {
	accounts := []struct {
		Credentials
		role Role
	}{{users.Reader, RoleReader}, {users.Writer, RoleWriter}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			writeError(w, &httpError{status: http.StatusForbidden, err: errors.New(
				"Code: 497. DB::Exception: requests from web pages (with an Origin header) are refused. (ACCESS_DENIED)")})
			return
		}
		if r.URL.Path == "/ping" {
			h.ServeHTTP(w, r)
			return
		}
		user, password, ok := r.BasicAuth()
		if !ok {
			user, password = r.Header.Get("X-ClickHouse-User"), r.Header.Get("X-ClickHouse-Key")
		}
		if user == "" {
			q := r.URL.Query()
			user, password = q.Get("user"), q.Get("password")
		}
		for _, a := range accounts {
			if a.User != "" && a.Password != "" && subtle.ConstantTimeCompare([]byte(user), []byte(a.User)) == 1 &&
				subtle.ConstantTimeCompare([]byte(password), []byte(a.Password)) == 1 {
				h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey{}, a.role)))
				return
			}
		}
		_ = r.Body.Close()
		w.Header().Set("WWW-Authenticate", `Basic realm="otsiem ClickHouse", charset="UTF-8"`)
		msg := "Code: 516. DB::Exception: " + user + ": Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)"
		if user == "" {
			msg = "Code: 516. DB::Exception: a user and password are required. (AUTHENTICATION_FAILED)"
		}
		writeError(w, &httpError{status: http.StatusUnauthorized, err: errors.New(msg)})
	})
}

// UsersFile is the name of the file in the data directory that keeps the
// generated passwords.
const UsersFile = "clickhouse-users.yaml"

// LoadUsers returns the users of the interface: what is configured, with
// a missing user name defaulted and a missing password taken from the
// file at path. With generate, passwords the file lacks are created (24
// random bytes, base64url) and the file is written with mode 0600;
// without, a missing password is an error.
func LoadUsers(path string, configured Users, generate bool) (Users, error) {
	var stored Users
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := yaml.Unmarshal(b, &stored); err != nil {
			return Users{}, fmt.Errorf("embedded: %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return Users{}, fmt.Errorf("embedded: %w", err)
	}
	u := configured
	changed := false
	for _, c := range []struct {
		cred   *Credentials
		stored Credentials
		name   string
	}{{&u.Reader, stored.Reader, DefaultReader}, {&u.Writer, stored.Writer, DefaultWriter}} {
		if c.cred.User == "" {
			c.cred.User = c.name
		}
		if c.cred.Password != "" {
			continue
		}
		if c.stored.Password != "" && c.stored.User == c.cred.User {
			c.cred.Password = c.stored.Password
			continue
		}
		if !generate {
			return Users{}, fmt.Errorf("embedded: no password for %s in %s (otsiem run writes it there at its first start)", c.cred.User, path)
		}
		p := make([]byte, 24)
		_, _ = rand.Read(p)
		c.cred.Password = base64.RawURLEncoding.EncodeToString(p)
		changed = true
	}
	if !changed {
		return u, nil
	}
	// Only the generated passwords are kept in the file.
	keep := Users{Reader: u.Reader, Writer: u.Writer}
	if configured.Reader.Password != "" {
		keep.Reader = stored.Reader
	}
	if configured.Writer.Password != "" {
		keep.Writer = stored.Writer
	}
	out, err := yaml.Marshal(keep)
	if err != nil {
		return Users{}, err
	}
	out = append([]byte("# Users of otsiem's embedded ClickHouse HTTP interface (storage.embedded.listen),\n"+
		"# generated at its first start. Grafana and `otsiem query` read with the reader;\n"+
		"# the writer may only insert. Keep this file to its owner (mode 0600).\n"), out...)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Users{}, fmt.Errorf("embedded: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return Users{}, fmt.Errorf("embedded: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Users{}, fmt.Errorf("embedded: %w", err)
	}
	return u, nil
}
