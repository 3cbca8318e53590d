package bus

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Roles of the identities allowed on the embedded server's listener.
const (
	// RoleOtsiem may do anything: otsiem's own stages and tools. Only this
	// role may publish, findings included.
	RoleOtsiem = "otsiem"
	// RoleReader may subscribe to otsiem's subjects (live events and
	// findings, e.g. for a dashboard) and publish nothing.
	RoleReader = "reader"
)

// SeedFile is where the embedded server keeps otsiem's own NKey seed,
// under its store directory; other otsiem processes on the host connect
// with it (nats.nkey_file).
const SeedFile = "otsiem.nk"

// permissions returns a role's permissions (nil: everything).
func permissions(role string) (*server.Permissions, error) {
	switch role {
	case RoleOtsiem:
		return nil, nil
	case RoleReader, "":
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Deny: []string{">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"otsiem.>", "_INBOX.>"}},
		}, nil
	}
	return nil, fmt.Errorf("role %q: want %s or %s", role, RoleOtsiem, RoleReader)
}

// ownIdentity loads otsiem's NKey seed from dir, creating it (mode 0600)
// on first start, and returns its public key and seed file.
func ownIdentity(dir string) (public, path string, err error) {
	path = filepath.Join(dir, SeedFile)
	seed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", "", err
		}
		if seed, err = kp.Seed(); err != nil {
			return "", "", err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", "", err
		}
		_, err = f.Write(append(seed, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", "", err
		}
	} else if err != nil {
		return "", "", err
	} else if err := os.Chmod(path, 0o600); err != nil {
		return "", "", err
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	public, err = kp.PublicKey()
	return public, path, err
}

// diskSpace returns the free space of the filesystem holding dir and the
// bytes the files under dir take.
func diskSpace(dir string) (free, used int64) {
	free, _ = diskFree(dir)
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				used += info.Size()
			}
		}
		return nil
	})
	return free, used
}
