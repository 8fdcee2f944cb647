package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
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

func (s *Service) loadTLS(ctx context.Context, st store.Store, computeID string) (*tlsSecret, error) {
	r, err := st.GetResource(ctx, tlsSecretID(computeID))
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

// writeTLS stores a compute's sealed TLS material through st (which may be a transaction).
func (s *Service) writeTLS(ctx context.Context, st store.Store, computeID string, sec *tlsSecret) error {
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
	_, err := store.Modify(ctx, st, id, func(r *store.Resource) error { r.Body = body; return nil })
	if errors.Is(err, store.ErrNotFound) {
		err = st.CreateResource(ctx, &store.Resource{ID: id, ParentID: computeID, Type: typeSecret, Name: "tls", Body: body, OwnerID: computeID})
	}
	if err != nil {
		return fmt.Errorf("save TLS secret of %s: %w", computeID, err)
	}
	return nil
}

// saveTLS keeps the key of an Enabled configuration sealed; an Auto certificate already
// issued for the same label is kept.
func (s *Service) saveTLS(ctx context.Context, st store.Store, computeID string, ssl sslSettings) error {
	cur, err := s.loadTLS(ctx, st, computeID)
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
	return s.writeTLS(ctx, st, computeID, next)
}

// forgetIssuedCert drops an Auto certificate so the next install issues a new one (renew,
// overwriteExistingDomain).
func (s *Service) forgetIssuedCert(ctx context.Context, st store.Store, computeID string) error {
	cur, err := s.loadTLS(ctx, st, computeID)
	if err != nil || cur.IssuedCert == "" {
		return err
	}
	cur.IssuedCert, cur.IssuedKey, cur.IssuedFor = "", "", ""
	return s.writeTLS(ctx, st, computeID, cur)
}

// frontEndFqdn is the name an Auto certificate is issued for.
func frontEndFqdn(leaf, location string) string {
	return fmt.Sprintf("%s.%s.cloudapp.mlfleet.local", leaf, location)
}

// tlsFor returns the TLS material to install for st (nil when disabled), issuing an Auto
// certificate from mlfleet's CA when there is none yet for the label. local (the cluster's
// router serves on 127.0.0.1, where scoring URIs point) adds that address to an Auto
// certificate, so that clients trusting mlfleet's CA verify those URIs.
func (s *Service) tlsFor(ctx context.Context, c *armapi.Compute, st settings, local bool) (*kube.TLS, string, error) {
	switch st.SSL.Status {
	case "Enabled":
		sec, err := s.loadTLS(ctx, s.cfg.Store, c.ID)
		if err != nil {
			return nil, "", err
		}
		return &kube.TLS{Cert: []byte(st.SSL.Cert), Key: []byte(sec.Key), CName: st.SSL.CName}, st.SSL.CName, nil
	case "Auto":
		fqdn := frontEndFqdn(st.SSL.Leaf, c.Properties.ComputeLocation)
		sec, err := s.loadTLS(ctx, s.cfg.Store, c.ID)
		if err != nil {
			return nil, "", err
		}
		// Issued once per name and stored before it is used, so that a resumed install
		// applies the same certificate again instead of issuing another, which would
		// change the TLS checksum and roll the front-end's pods for nothing.
		// IssuedFor lists the names, so that a certificate issued before the loopback was
		// named (or for another label) is issued again.
		hosts := []string{fqdn}
		if local {
			hosts = append(hosts, "127.0.0.1")
		}
		issuedFor := strings.Join(hosts, " ")
		if sec.IssuedCert == "" || sec.IssuedFor != issuedFor {
			if s.cfg.CA == nil {
				return nil, "", fmt.Errorf("TLS Auto: this server has no CA to issue certificates")
			}
			cert, key, err := s.cfg.CA.Issue(fqdn, nil, hosts, 365*24*time.Hour)
			if err != nil {
				return nil, "", err
			}
			sec = &tlsSecret{IssuedCert: string(cert), IssuedKey: string(key), IssuedFor: issuedFor}
			if err := s.writeTLS(ctx, s.cfg.Store, c.ID, sec); err != nil {
				return nil, "", err
			}
		}
		return &kube.TLS{Cert: []byte(sec.IssuedCert), Key: []byte(sec.IssuedKey), CName: fqdn}, fqdn, nil
	}
	return nil, "", nil
}

// leafClaimID is the row that gives one compute a leaf domain label in a region: its
// front-end's name (S13).
func leafClaimID(location, leaf string) string {
	return "/providers/" + Namespace + "/locations/" + location + "/leafDomains/" + strings.ToLower(leaf)
}

// leafHolder returns the compute holding a leaf domain label, "" when none.
func (s *Service) leafHolder(ctx context.Context, location, leaf string) (string, error) {
	return claimHolder(ctx, s.cfg.Store, leafClaimID(location, leaf), "leaf domain "+leaf)
}

// checkLeaf adds the check that an Auto label is free in the region, or taken over with
// overwriteExistingDomain.
func (s *Service) checkLeaf(ctx context.Context, location, self string, ssl sslSettings, l *checkList) error {
	if ssl.Status != "Auto" || ssl.Leaf == "" {
		return nil
	}
	holder, err := s.leafHolder(ctx, location, ssl.Leaf)
	switch {
	case err != nil:
		return err
	case holder == "" || strings.EqualFold(holder, self):
		l.pass("LeafDomainLabel", "%s is free", frontEndFqdn(ssl.Leaf, location))
	case ssl.Overwrite:
		l.pass("LeafDomainLabel", "%s is taken over from %s (overwriteExistingDomain)", frontEndFqdn(ssl.Leaf, location), describeCompute(holder))
	default:
		l.fail("LeafDomainLabel", arm.CodeConflict, "properties.properties.sslConfiguration.leafDomainLabel",
			"Leaf domain label '%s' (%s) is used by %s. Choose another label, or set overwriteExistingDomain (--ssl-overwrite-domain) to take it over.",
			ssl.Leaf, frontEndFqdn(ssl.Leaf, location), describeCompute(holder))
	}
	return nil
}

// claimLeaf gives the Auto label of ssl to compute self (taking it over when ssl.Overwrite)
// through st, a transaction; nothing for other TLS settings.
func (s *Service) claimLeaf(ctx context.Context, st store.Store, location, self string, ssl sslSettings) error {
	if ssl.Status != "Auto" || ssl.Leaf == "" {
		return nil
	}
	id := leafClaimID(location, ssl.Leaf)
	body, _ := json.Marshal(claim{ComputeID: self})
	r, err := st.GetResource(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = st.CreateResource(ctx, &store.Resource{ID: id, Type: Namespace + "/locations/leafDomains", Name: strings.ToLower(ssl.Leaf), Location: location, Body: body, OwnerID: self})
	case err == nil:
		var c claim
		_ = json.Unmarshal(r.Body, &c)
		if strings.EqualFold(c.ComputeID, self) {
			return nil
		}
		if !ssl.Overwrite {
			return arm.Conflict("Leaf domain label '%s' was taken by %s in the meantime; choose another label, or set overwriteExistingDomain.", ssl.Leaf, describeCompute(c.ComputeID))
		}
		// Take it over: the holder's claim goes (only as it was read), the new one is ours.
		if err = st.DeleteResource(ctx, id, r.Version); err == nil {
			err = st.CreateResource(ctx, &store.Resource{ID: id, Type: Namespace + "/locations/leafDomains", Name: strings.ToLower(ssl.Leaf), Location: location, Body: body, OwnerID: self})
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return arm.Conflict("Leaf domain label '%s' was claimed by another request at the same time; retry.", ssl.Leaf)
	}
	if err != nil {
		return fmt.Errorf("claim leaf domain %s: %w", ssl.Leaf, err)
	}
	return nil
}

// releaseLeaf frees a label held by compute self, through st; a label another compute
// took over in the meantime stays theirs.
func (s *Service) releaseLeaf(ctx context.Context, st store.Store, location, leaf, self string) error {
	if leaf == "" {
		return nil
	}
	return releaseClaim(ctx, st, leafClaimID(location, leaf), self)
}

// releaseClaim deletes the claim row id if compute self holds it, only as it was read: a
// claim another compute has just taken is not deleted. Nothing when it is gone.
func releaseClaim(ctx context.Context, st store.Store, id, self string) error {
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var c claim
	if json.Unmarshal(r.Body, &c) != nil || !strings.EqualFold(c.ComputeID, self) {
		return nil
	}
	if err := st.DeleteResource(ctx, id, r.Version); err != nil && !errors.Is(err, store.ErrNotFound) {
		if errors.Is(err, store.ErrConflict) {
			return nil // taken over since it was read: no longer ours to release
		}
		return fmt.Errorf("release %s: %w", id, err)
	}
	return nil
}
