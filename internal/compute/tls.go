package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
)

// tlsSecret is what a compute keeps sealed: the key of its own certificate (Enabled), or
// the certificate mlfleet issued for its leaf domain label (Auto).
type tlsSecret struct {
	Key        string `json:"-"`
	IssuedCert string `json:"-"`
	IssuedKey  string `json:"-"`
	IssuedFor  string `json:"issuedFor,omitempty"`
}

type sealedTLS struct {
	Key        []byte `json:"key,omitempty"`
	IssuedCert []byte `json:"issuedCert,omitempty"`
	IssuedKey  []byte `json:"issuedKey,omitempty"`
	IssuedFor  string `json:"issuedFor,omitempty"`
}

func (s *Service) loadTLS(ctx context.Context, computeID string) (*tlsSecret, error) {
	r, err := s.cfg.Store.GetResource(ctx, tlsSecretID(computeID))
	if errors.Is(err, store.ErrNotFound) {
		return &tlsSecret{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load TLS secret of %s: %w", computeID, err)
	}
	var sealed sealedTLS
	if err := json.Unmarshal(r.Body, &sealed); err != nil {
		return nil, fmt.Errorf("decode TLS secret of %s: %w", computeID, err)
	}
	out := &tlsSecret{IssuedFor: sealed.IssuedFor}
	for _, f := range []struct {
		in  []byte
		out *string
	}{{sealed.Key, &out.Key}, {sealed.IssuedCert, &out.IssuedCert}, {sealed.IssuedKey, &out.IssuedKey}} {
		if len(f.in) == 0 {
			continue
		}
		b, err := s.cfg.Secrets.Open(f.in)
		if err != nil {
			return nil, fmt.Errorf("open TLS secret of %s: %w", computeID, err)
		}
		*f.out = string(b)
	}
	return out, nil
}

func (s *Service) writeTLS(ctx context.Context, computeID string, sec *tlsSecret) error {
	sealed := sealedTLS{IssuedFor: sec.IssuedFor}
	if sec.Key != "" {
		sealed.Key = s.cfg.Secrets.Seal([]byte(sec.Key))
	}
	if sec.IssuedCert != "" {
		sealed.IssuedCert = s.cfg.Secrets.Seal([]byte(sec.IssuedCert))
		sealed.IssuedKey = s.cfg.Secrets.Seal([]byte(sec.IssuedKey))
	}
	body, _ := json.Marshal(sealed)
	id := tlsSecretID(computeID)
	for {
		r, err := s.cfg.Store.GetResource(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			err = s.cfg.Store.CreateResource(ctx, &store.Resource{ID: id, ParentID: computeID, Type: typeSecret, Name: "tls", Body: body})
		} else if err == nil {
			r.Body = body
			err = s.cfg.Store.UpdateResource(ctx, r)
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save TLS secret of %s: %w", computeID, err)
		}
		return nil
	}
}

// saveTLS keeps the key of an Enabled configuration sealed; an Auto certificate already
// issued for the same label is kept.
func (s *Service) saveTLS(ctx context.Context, r *store.Resource, ssl sslSettings) error {
	cur, err := s.loadTLS(ctx, r.ID)
	if err != nil {
		return err
	}
	next := &tlsSecret{}
	switch ssl.Status {
	case "Enabled":
		next.Key = ssl.Key
	case "Auto":
		next.IssuedCert, next.IssuedKey, next.IssuedFor = cur.IssuedCert, cur.IssuedKey, cur.IssuedFor
	}
	if *next == (tlsSecret{}) && *cur == (tlsSecret{}) {
		return nil
	}
	return s.writeTLS(ctx, r.ID, next)
}

// forgetIssuedCert drops an Auto certificate so the next install issues a new one (renew,
// overwriteExistingDomain).
func (s *Service) forgetIssuedCert(ctx context.Context, computeID string) error {
	cur, err := s.loadTLS(ctx, computeID)
	if err != nil || cur.IssuedCert == "" {
		return err
	}
	cur.IssuedCert, cur.IssuedKey, cur.IssuedFor = "", "", ""
	return s.writeTLS(ctx, computeID, cur)
}

// frontEndFqdn is the name an Auto certificate is issued for.
func frontEndFqdn(leaf, location string) string {
	return fmt.Sprintf("%s.%s.cloudapp.mlfleet.local", leaf, location)
}

// tlsFor returns the TLS material to install for st (nil when disabled), issuing an Auto
// certificate from mlfleet's CA when there is none yet for the label.
func (s *Service) tlsFor(ctx context.Context, c *Compute, st settings) (*kube.TLS, string, error) {
	switch st.SSL.Status {
	case "Enabled":
		sec, err := s.loadTLS(ctx, c.ID)
		if err != nil {
			return nil, "", err
		}
		return &kube.TLS{Cert: []byte(st.SSL.Cert), Key: []byte(sec.Key), CName: st.SSL.CName}, st.SSL.CName, nil
	case "Auto":
		fqdn := frontEndFqdn(st.SSL.Leaf, c.Properties.ComputeLocation)
		sec, err := s.loadTLS(ctx, c.ID)
		if err != nil {
			return nil, "", err
		}
		if sec.IssuedCert == "" || sec.IssuedFor != fqdn {
			if s.cfg.CA == nil {
				return nil, "", fmt.Errorf("TLS Auto: this server has no CA to issue certificates")
			}
			cert, key, err := s.cfg.CA.Issue(fqdn, nil, []string{fqdn}, 365*24*time.Hour)
			if err != nil {
				return nil, "", err
			}
			sec = &tlsSecret{IssuedCert: string(cert), IssuedKey: string(key), IssuedFor: fqdn}
			if err := s.writeTLS(ctx, c.ID, sec); err != nil {
				return nil, "", err
			}
		}
		return &kube.TLS{Cert: []byte(sec.IssuedCert), Key: []byte(sec.IssuedKey), CName: fqdn}, fqdn, nil
	}
	return nil, "", nil
}
