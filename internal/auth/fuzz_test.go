package auth

import (
	"context"
	"crypto/elliptic"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// The fuzz targets feed auth arbitrary bearer tokens and ID tokens: whatever a client
// sends, the answer is ErrUnauthenticated or an error, never a panic, and only the token
// that was minted (or signed) passes.
// Run one with: go test -run='^$' -fuzz='^FuzzAuthenticate$' -fuzztime=60s ./internal/auth

func FuzzAuthenticate(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	secret, err := fx.a.MintAdmin(ctx)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{secret, secret[:len(secret)-1], secret + "=", "mlf_", "", " ", "Bearer " + secret,
		"\x00", "mlf_\xff\xfe", Hash(secret), "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := fx.a.Authenticate(ctx, s)
		if s == secret {
			if err != nil || p.Name != AdminLogin {
				t.Fatalf("the admin's token: %v, %v", p, err)
			}
			return
		}
		if !errors.Is(err, ErrUnauthenticated) || p != nil {
			t.Fatalf("Authenticate(%q) = %v, %v; want ErrUnauthenticated", s, p, err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	b, err := NewSigningKeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	k, err := ParseSigningKey(b)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := k.Sign(map[string]any{"sub": "x", "exp": 1})
	if err != nil {
		f.Fatal(err)
	}
	// The same signature spelled (r, n-s), which ECDSA verification accepts as well.
	dot := strings.LastIndexByte(signed, '.')
	sig, err := b64.DecodeString(signed[dot+1:])
	if err != nil {
		f.Fatal(err)
	}
	high := new(big.Int).SetBytes(sig[32:])
	high.Sub(elliptic.P256().Params().N, high)
	high.FillBytes(sig[32:])
	mirrored := signed[:dot+1] + b64.EncodeToString(sig)
	for _, s := range []string{signed, mirrored, signed[:len(signed)-2], signed + ".", "..", "a.b.c", "", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJub25lIn0.e30." + signed[len(signed)-86:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		claims, err := k.Verify(s)
		if err == nil && s != signed {
			t.Fatalf("Verify(%q) = %v: a token the key did not sign verifies", s, claims)
		}
	})
}

// FuzzParseSigningKey feeds the server's token signing key file arbitrary content.
func FuzzParseSigningKey(f *testing.F) {
	b, err := NewSigningKeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseSigningKey(b)
		if err != nil {
			return
		}
		tok, err := k.Sign(map[string]any{"sub": "x"})
		if err != nil {
			t.Fatalf("a parsed key does not sign: %v", err)
		}
		if _, err := k.Verify(tok); err != nil {
			t.Fatalf("a parsed key does not verify its own token: %v", err)
		}
		k.JWKS()
	})
}
