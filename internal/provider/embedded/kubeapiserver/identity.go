package kubeapiserver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
	mlpki "github.com/mlfleet/mlfleet/internal/pki"
)

// identityFiles are the files of a cluster's PKI that make it the same cluster wherever it
// runs: the CA that kubeconfigs trust, the key that signs service account tokens, and the
// client certificates written into the kubeconfigs handed out. The serving certificate is
// not among them: each host issues its own from the CA, for its own addresses.
var identityFiles = []string{"ca.crt", "ca.key", "sa.key", "admin.crt", "admin.key", "user.crt", "user.key"}

// Identity is a cluster's identity: the contents of its identity files by base name.
// Several replicas hosting one cluster in turn install the same Identity, so that
// kubeconfigs and service account tokens handed out by one host stay valid on the next.
type Identity map[string][]byte

// LoadOrCreateIdentity returns the identity of the cluster whose data directory is dataDir,
// creating its PKI first when it has none (as Start would).
func LoadOrCreateIdentity(dataDir, clusterID string) (Identity, error) {
	dir := filepath.Join(dataDir, "pki")
	if _, err := loadOrCreatePKI(dir, clusterID, servingNames{}, time.Now()); err != nil {
		return nil, err
	}
	id := Identity{}
	for _, name := range identityFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read cluster identity: %w", err)
		}
		id[name] = b
	}
	return id, nil
}

// Validate checks that the identity has every file and that its CA loads.
func (id Identity) Validate() error {
	for _, name := range identityFiles {
		if len(id[name]) == 0 {
			return fmt.Errorf("cluster identity: no %s", name)
		}
	}
	if _, err := mlpki.ParseCA(id["ca.crt"], id["ca.key"]); err != nil {
		return fmt.Errorf("cluster identity: %w", err)
	}
	return nil
}

// Install writes the identity into the cluster's data directory, replacing the files that
// differ, before Start. Start then keeps them (they are signed by the CA and not expired)
// and reissues the serving certificate from this CA.
func (id Identity) Install(dataDir string) error {
	if err := id.Validate(); err != nil {
		return err
	}
	dir := filepath.Join(dataDir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("install cluster identity: %w", err)
	}
	for _, name := range identityFiles {
		path := filepath.Join(dir, name)
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, id[name]) {
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("install cluster identity: %w", err)
		}
		if err := atomicfile.WriteFile(path, id[name], 0o600); err != nil {
			return fmt.Errorf("install cluster identity: %w", err)
		}
	}
	return nil
}

// Kubeconfigs renders the cluster's admin and user kubeconfigs from the identity alone, for
// a replica that does not host the cluster: they name frontDoor (host:port) as their server
// and serverName (the cluster's FQDN) as the TLS server name, exactly as the host's do.
func (id Identity) Kubeconfigs(clusterID, frontDoor, serverName string) (admin, user []byte, err error) {
	if err := id.Validate(); err != nil {
		return nil, nil, err
	}
	at := kubeEndpoint{server: "https://" + frontDoor, serverName: serverName}
	admin, err = kubeconfig(clusterID, clusterID+"-admin", "clusterAdmin_"+clusterID, at, id["ca.crt"], keyPair{cert: id["admin.crt"], key: id["admin.key"]})
	if err != nil {
		return nil, nil, err
	}
	user, err = kubeconfig(clusterID, clusterID, "clusterUser_"+clusterID, at, id["ca.crt"], keyPair{cert: id["user.crt"], key: id["user.key"]})
	if err != nil {
		return nil, nil, err
	}
	return admin, user, nil
}
