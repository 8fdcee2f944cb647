// Package clientconfig reads and writes the client configuration that `mlfleet serve`
// leaves in its home directory ($MLFLEET_HOME, else ~/.mlfleet), so that the CLI and SDK
// reach the local server with no flags: server URL, subscription, CA and token files, and
// the defaults set by `mlfleet configure --defaults`.
package clientconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// FileName is the config file's name inside the home directory.
const FileName = "config.json"

// Config is the client configuration.
type Config struct {
	// Server is the API's base URL, e.g. https://127.0.0.1:8443.
	Server string `json:"server"`
	// Subscription is the subscription id commands use.
	Subscription string `json:"subscription"`
	// Tenant is the tenant id reported by `account show`.
	Tenant string `json:"tenant,omitempty"`
	// CAFile is the PEM file of the CA that signed the server's certificate ("" = system roots).
	CAFile string `json:"caFile,omitempty"`
	// TokenFile holds the bearer token; Token, when set, is used instead.
	TokenFile string `json:"tokenFile,omitempty"`
	Token     string `json:"token,omitempty"`
	// Login, when set, is who `mlfleet login` signed in as: the CLI acts as that principal
	// instead of the admin until `mlfleet logout`.
	Login *Login `json:"login,omitempty"`
	// Defaults are the values of `mlfleet configure --defaults` (keys: group, workspace, location).
	Defaults map[string]string `json:"defaults,omitempty"`
}

// Home returns the mlfleet home directory: $MLFLEET_HOME, else ~/.mlfleet.
func Home() (string, error) {
	if h := os.Getenv("MLFLEET_HOME"); h != "" {
		return filepath.Abs(h)
	}
	return DefaultHome()
}

// DefaultHome returns the home the CLI uses when MLFLEET_HOME is not set: ~/.mlfleet.
func DefaultHome() (string, error) {
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w (set MLFLEET_HOME)", err)
	}
	return filepath.Join(u, ".mlfleet"), nil
}

// ErrNoConfig means the home directory has no config file yet.
var ErrNoConfig = errors.New("no mlfleet configuration")

// Load reads the config of a home directory. It returns an error wrapping ErrNoConfig,
// with advice, when there is none.
func Load(home string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(home, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: start the server once with 'mlfleet serve' (or set MLFLEET_HOME to its home)", ErrNoConfig, home)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		// The file is derived: serve writes it from its home and store on every start.
		return nil, fmt.Errorf("parse %s: %w; the file is derived: delete it and start 'mlfleet serve' again, which writes it anew (then sign in again if you used 'mlfleet login', and set 'mlfleet configure --defaults' again)", filepath.Join(home, FileName), err)
	}
	return &c, nil
}

// Save writes c atomically into home (mode 0600: it may hold a token).
func Save(home string, c *Config) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create home: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(home, FileName), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Login is a principal the CLI signed in as, with its current access token.
type Login struct {
	// ServicePrincipal tells whether Username is an appId (else a user principal name).
	ServicePrincipal bool   `json:"servicePrincipal"`
	Username         string `json:"username"`
	// Secret is a service principal's client secret, kept (in this 0600 file, as az keeps
	// it) to get a new token when one expires. A user's password is never kept.
	Secret      string    `json:"secret,omitempty"`
	AccessToken string    `json:"accessToken"`
	ExpiresOn   time.Time `json:"expiresOn"`
}

// Expired reports whether the login's token is expired, or will be within a minute.
func (l *Login) Expired(now time.Time) bool { return !now.Add(time.Minute).Before(l.ExpiresOn) }

// ReadToken returns the token of c: Token, else the signed-in principal's, else the
// content of TokenFile.
func (c *Config) ReadToken() (string, error) {
	if c.Token != "" {
		return c.Token, nil
	}
	if c.Login != nil {
		if c.Login.Expired(time.Now()) {
			return "", fmt.Errorf("the sign-in of %s expired at %s: run 'mlfleet login' again (or 'mlfleet logout' to act as the admin)", c.Login.Username, c.Login.ExpiresOn.Local().Format(time.RFC3339))
		}
		return c.Login.AccessToken, nil
	}
	if c.TokenFile == "" {
		return "", errors.New("no token configured: set MLFLEET_TOKEN or run 'mlfleet serve' once to create one")
	}
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
