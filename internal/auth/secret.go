package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Principal secrets are stored as "pbkdf2-sha256$<iterations>$<salt>$<key>" (base64 salt
// and key): a user's password may be guessable, so its hash is slow to compute.
const (
	secretScheme     = "pbkdf2-sha256"
	secretIterations = 100_000
	secretKeyLen     = 32
)

// dummyHash is checked against when a login names no principal, so that the answer takes
// as long as a real check.
var dummyHash = hashSecret("no such principal")

// hashSecret returns the salted hash of a principal's secret.
func hashSecret(secret string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	return hashWith(secret, salt, secretIterations)
}

func hashWith(secret string, salt []byte, iterations int) string {
	key, err := pbkdf2.Key(sha256.New, secret, salt, iterations, secretKeyLen)
	if err != nil {
		panic(err) // only for parameters FIPS mode refuses, which these are not
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", secretScheme, iterations, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// checkSecret reports whether secret matches a hash made by hashSecret.
func checkSecret(hash, secret string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != secretScheme {
		return false
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < 1 || iterations > 10*secretIterations {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashWith(secret, salt, iterations)), []byte(hash)) == 1
}

// newClientSecret returns a random client secret of 40 characters, as Azure's are. It never
// starts with '-': `az login -p -x…` takes such a password for a flag (one secret in 64
// would otherwise need `-p=…`).
func newClientSecret() string {
	b := make([]byte, 30)
	for {
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		if s := base64.RawURLEncoding.EncodeToString(b); s[0] != '-' {
			return s
		}
	}
}
