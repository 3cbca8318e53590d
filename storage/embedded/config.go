package embedded

import "github.com/otsiem/otsiem/setting"

// Credentials are a user name and password.
type Credentials struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// Users are the two accounts of the HTTP interface served to the network.
type Users struct {
	Reader Credentials `yaml:"reader"`
	Writer Credentials `yaml:"writer"`
}

// TLS is the certificate of an interface served over HTTPS: PEM files, the
// certificate (with its chain) and its private key. The zero value serves
// plain HTTP.
type TLS struct {
	CertFile string `yaml:"cert_file" config:"path"`
	KeyFile  string `yaml:"key_file" config:"path"`
}

// Enabled reports whether a certificate is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Validate reports a certificate without its key, or a key without its
// certificate (setting.FieldErrors).
func (t TLS) Validate() error {
	if !t.Enabled() {
		return nil
	}
	return setting.ServerTLS{CertFile: t.CertFile, KeyFile: t.KeyFile}.Validate(true)
}
