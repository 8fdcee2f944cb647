package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/uuid"
	"github.com/mlfleet/mlfleet/internal/atomicfile"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/pki"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
)

// prepareClientConfig makes sure the home has a subscription and a CLI config, creating
// what is missing, and returns the config (not yet saved).
func prepareClientConfig(ctx context.Context, home string, rs *resources.Service) (*clientconfig.Config, error) {
	ccfg, err := clientconfig.Load(home)
	if errors.Is(err, clientconfig.ErrNoConfig) {
		ccfg, err = &clientconfig.Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	if ccfg.Subscription == "" {
		sub, err := rs.DefaultSubscription(ctx)
		if err != nil {
			return nil, err
		}
		ccfg.Subscription, ccfg.Tenant = sub.SubscriptionID, sub.TenantID
	}
	if ccfg.Tenant == "" {
		ccfg.Tenant = uuid.NewString()
	}
	if _, err := rs.EnsureSubscription(ctx, ccfg.Subscription, resources.DefaultSubscriptionName, ccfg.Tenant); err != nil {
		return nil, err
	}
	return ccfg, nil
}

// ensureAdminToken makes sure the home holds a valid token of the bootstrap admin, minting
// one on first start, and returns the file's path.
func ensureAdminToken(ctx context.Context, home string, authn *auth.Authenticator) (string, error) {
	tokenPath := filepath.Join(home, adminTokenFile)
	valid, err := tokenValid(ctx, authn, tokenPath)
	if err != nil || valid {
		return tokenPath, err
	}
	secret, err := authn.MintAdmin(ctx)
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(tokenPath, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	return tokenPath, nil
}

// tokenValid reports whether the token file holds a token the store knows.
func tokenValid(ctx context.Context, authn *auth.Authenticator, path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read admin token: %w", err)
	}
	_, err = authn.Authenticate(ctx, strings.TrimSpace(string(b)))
	if errors.Is(err, auth.ErrUnauthenticated) {
		return false, nil
	}
	return err == nil, err
}

// restrictHome makes home private to this user (0700). A home another user owns cannot be
// changed: the error then says whose it is and what to do.
func restrictHome(home string) error {
	err := os.Chmod(home, 0o700)
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrPermission) {
		if fi, serr := os.Stat(home); serr == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
				return notOwnedError(home, int(st.Uid), os.Geteuid(), err)
			}
		}
	}
	return fmt.Errorf("restrict home %s: %w", home, err)
}

// notOwnedError is the error of a home owned by the user owner, which self, running serve,
// may not make private (err).
func notOwnedError(home string, owner, self int, err error) error {
	return fmt.Errorf("home %s belongs to %s, not to %s, who runs mlfleet serve (%w): the home holds the server's keys and is kept private to its user; run mlfleet serve as %s, or give the directory to %s (chown -R %d %s), or use a home of your own (--data-dir or MLFLEET_HOME)",
		home, userName(owner), userName(self), err, userName(owner), userName(self), self, home)
}

// userName is "name (uid N)" for a user id, or "uid N" when the system does not know it.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil {
		return fmt.Sprintf("%s (uid %s)", u.Username, id)
	}
	return "uid " + id
}

func urlHost(a *net.TCPAddr, configured string) string {
	h := configured
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "127.0.0.1"
	}
	return net.JoinHostPort(h, fmt.Sprint(a.Port))
}

// lockHome takes an exclusive lock on the home directory, released when the process exits
// (even by SIGKILL).
func lockHome(home string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(home, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another mlfleet server is using %s; stop it first or set MLFLEET_HOME to another directory", home)
	}
	return func() { f.Close() }, nil
}

// listenAPI listens on addr. Port 0 reuses the port of the previous start when it is free
// (recorded in the home), else picks a free one: the kubeconfigs of embedded clusters name
// this address, so keeping it keeps them valid across restarts.
func listenAPI(home, addr string) (net.Listener, error) {
	record := filepath.Join(home, portFile)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parse --addr %q: %w", addr, err)
	}
	var ln net.Listener
	if port == "0" {
		if b, err := os.ReadFile(record); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && p < 65536 {
				ln, _ = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
			}
		}
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, listenError(addr, err)
		}
	}
	if port == "0" {
		if err := atomicfile.WriteFile(record, []byte(strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)+"\n"), 0o600); err != nil {
			ln.Close()
			return nil, fmt.Errorf("record the API port: %w", err)
		}
	}
	return ln, nil
}

// listenError is err of a listen on addr with, where the cause is one the user can act
// on, what to do.
func listenError(addr string, err error) error {
	host, port, _ := net.SplitHostPort(addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen on %s: %w (is another mlfleet serving? use --addr to pick another port)", addr, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("listen on %s: %w (%s is not an address of this machine: use --addr with one of its addresses, or 0.0.0.0:%s for all of them)", addr, err, host, port)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen on %s: %w (port %s needs privileges: use --addr with a port above 1023)", addr, err, port)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}

// openBlobs returns the blob store: files under the home for a SQLite server, the
// database's tables for PostgreSQL, whose replicas must share the blobs.
func openBlobs(home string, st store.Store, sqlite bool, maxSize int64) (blobs.Store, error) {
	if sqlite {
		return blobs.NewFiles(filepath.Join(home, blobsDir), maxSize)
	}
	bs, ok := st.(store.BlobStore)
	if !ok {
		return nil, fmt.Errorf("open blob store: the store keeps no blobs")
	}
	tmp := filepath.Join(home, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	return blobs.NewDatabase(bs, tmp, maxSize), nil
}

// caPool is a pool of the server's CA alone, for clients of the routers it certifies.
func caPool(ca *pki.CA) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}
