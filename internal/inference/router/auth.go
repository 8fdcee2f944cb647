package router

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/inference"
)

// parseTokenKey reads the PEM public key (PKIX, ECDSA P-256) that verifies AMLTokens.
func parseTokenKey(p string) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("tokenKeyPem holds no PEM block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tokenKeyPem: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("tokenKeyPem is not an ECDSA P-256 public key")
	}
	return ec, nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// checkKey tells whether token is one of keys, in constant time per key.
func checkKey(token string, keys []string) bool {
	ok := false
	for _, k := range keys {
		if k != "" && subtle.ConstantTimeCompare([]byte(token), []byte(k)) == 1 {
			ok = true
		}
	}
	return ok
}

// checkToken verifies an AMLToken: an ES256 JWT signed by key, for TokenAudience and
// endpoint, not expired at now. id, when the endpoint's config has it, is the endpoint's
// ARM id, which the token's endpointId claim must name (compared as ARM compares ids,
// without case).
func checkToken(token string, key *ecdsa.PublicKey, endpoint, id string, now time.Time) error {
	if key == nil {
		return errors.New("the endpoint has no token key")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	b64 := base64.RawURLEncoding.Strict() // one spelling per signature, as package auth reads them
	hdrJSON, err := b64.DecodeString(parts[0])
	if err != nil {
		return errors.New("bad JWT header")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil || hdr.Alg != "ES256" {
		return errors.New("JWT is not ES256")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("bad JWT signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("JWT signature does not verify")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return errors.New("bad JWT payload")
	}
	var claims struct {
		Aud        any     `json:"aud"`
		Endpoint   string  `json:"endpoint"`
		EndpointID string  `json:"endpointId"`
		Exp        float64 `json:"exp"`
		Nbf        float64 `json:"nbf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return errors.New("bad JWT claims")
	}
	audOK := false
	switch a := claims.Aud.(type) {
	case string:
		audOK = a == inference.TokenAudience
	case []any:
		for _, v := range a {
			audOK = audOK || v == inference.TokenAudience
		}
	}
	switch {
	case !audOK:
		return errors.New("token is not for endpoints")
	case claims.Endpoint != endpoint:
		return fmt.Errorf("token is for endpoint %q", claims.Endpoint)
	case id != "" && !strings.EqualFold(claims.EndpointID, id):
		return errors.New("token is for an endpoint of that name in another workspace, or has no endpointId: get a new one (az ml online-endpoint get-credentials)")
	case claims.Exp == 0 || now.Unix() >= int64(claims.Exp):
		return errors.New("token expired")
	case claims.Nbf != 0 && now.Unix() < int64(claims.Nbf):
		return errors.New("token not valid yet")
	}
	return nil
}
