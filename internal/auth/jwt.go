package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// SigningKey signs the ID tokens the token endpoint returns with a user's sign-in (ES256),
// so that clients such as MSAL learn who signed in. It is not used for access tokens,
// which are opaque and checked against the store.
type SigningKey struct {
	key *ecdsa.PrivateKey
	// ID is the key id ("kid"): a thumbprint of the public key.
	ID string
}

// LoadOrCreateSigningKey reads the PEM EC key at path, creating it (0600) when missing.
func LoadOrCreateSigningKey(path string) (*SigningKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if b, err = NewSigningKeyPEM(); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write token signing key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read token signing key: %w", err)
	}
	k, err := ParseSigningKey(b)
	if err != nil {
		return nil, fmt.Errorf("token signing key %s: %w", path, err)
	}
	return k, nil
}

// NewSigningKeyPEM generates a signing key and returns it in PEM form (EC PRIVATE KEY).
func NewSigningKeyPEM() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// ParseSigningKey returns the signing key in PEM form made by NewSigningKeyPEM.
func ParseSigningKey(b []byte) (*SigningKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse token signing key: %w", err)
	}
	return newSigningKey(key), nil
}

func newSigningKey(key *ecdsa.PrivateKey) *SigningKey {
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	return &SigningKey{key: key, ID: base64.RawURLEncoding.EncodeToString(sum[:16])}
}

// b64 is JWS's base64url without padding (RFC 7515, section 2). Decoding is
// strict, so a token has one spelling: a last character whose unused bits
// are set would otherwise decode to the same signature.
var b64 = base64.RawURLEncoding.Strict()

// halfOrder is half the order n of P-256. Sign writes s no higher, and Verify refuses a
// higher s: (r, n-s) verifies as well as (r, s), and would be a second spelling of a token.
var halfOrder = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

// Sign returns the compact JWS (ES256) of claims.
func (k *SigningKey) Sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": k.ID})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		return "", err
	}
	// (r, s) and (r, n-s) are both valid signatures; the low one is the token's spelling.
	if s.Cmp(halfOrder) > 0 {
		s.Sub(k.key.Curve.Params().N, s)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + b64.EncodeToString(sig), nil
}

// Verify checks a compact JWS made by Sign and returns its claims.
func (k *SigningKey) Verify(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("bad signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if s.Cmp(halfOrder) > 0 {
		return nil, errors.New("bad signature encoding: s is not the low one of (s, n-s)")
	}
	if !ecdsa.Verify(&k.key.PublicKey, sum[:], r, s) {
		return nil, errors.New("bad signature")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	return claims, json.Unmarshal(payload, &claims)
}

// JWKS is the key set clients verify ID tokens with (RFC 7517).
func (k *SigningKey) JWKS() map[string]any {
	// The uncompressed point is 0x04 || X || Y, 32 bytes each on P-256.
	point, err := k.key.PublicKey.Bytes()
	if err != nil || len(point) != 65 {
		panic(fmt.Sprintf("P-256 public key encoding: %d bytes, %v", len(point), err))
	}
	x, y := point[1:33], point[33:]
	return map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": k.ID,
		"x": b64.EncodeToString(x), "y": b64.EncodeToString(y),
	}}}
}

// IDToken is the OpenID Connect ID token of a user's sign-in.
func (k *SigningKey) IDToken(issuer, audience, tenant string, p *Principal, now time.Time, lifetime time.Duration) (string, error) {
	return k.Sign(map[string]any{
		"iss": issuer, "aud": audience, "sub": p.ID, "oid": p.ID, "tid": tenant,
		"upn": p.Name, "unique_name": p.Name, "preferred_username": p.Name, "name": p.DisplayName,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(lifetime).Unix(), "ver": "1.0",
	})
}
