package endpoints

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/inference"
)

// TestTokenKeyVerifiesTokens: the PEM that goes into the endpoint Secret verifies the
// AMLToken tokens the service mints, with the claims the router checks.
func TestTokenKeyVerifiesTokens(t *testing.T) {
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{SigningKey: key}, now: time.Now}
	pemText, err := s.tokenKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("not a PEM public key: %q", pemText)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub := parsed.(*ecdsa.PublicKey)
	tok, err := key.Sign(map[string]any{"aud": inference.TokenAudience, "endpoint": "ep1", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature %d bytes, %v", len(sig), err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the token does not verify with the secret's key")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["aud"] != inference.TokenAudience || claims["endpoint"] != "ep1" {
		t.Fatalf("claims %v (%v)", claims, err)
	}
}
