package inference

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
)

// An inference server listens on 127.0.0.1, where every local process, another
// deployment's scoring script included, could call it and skip its endpoint's keys. So each
// server takes only requests that carry its instance key, which the router of the same
// mlfleet process adds: the key of the server at an address is an HMAC of the address
// under a secret that never leaves this process's memory. A server knows its own key (its
// environment), and no other's.

// InstanceKeyHeader carries the instance key of the server a request is for.
const InstanceKeyHeader = "X-Mlfleet-Instance-Key"

// instanceKeyEnv gives a server its key; server.py removes it from its environment before
// it loads the scoring script.
const instanceKeyEnv = "MLFLEET_INSTANCE_KEY"

var instanceSecret = func() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return b
}()

// InstanceKey returns the key of the inference server at addr (host:port) started by this
// process.
func InstanceKey(addr string) string {
	m := hmac.New(sha256.New, instanceSecret)
	m.Write([]byte(addr))
	return hex.EncodeToString(m.Sum(nil))
}

// NewScoreRequest returns a POST of body to the /score of the inference server at addr,
// with its instance key.
func NewScoreRequest(ctx context.Context, addr, contentType string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/score", body)
	if err != nil {
		return nil, err
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(InstanceKeyHeader, InstanceKey(addr))
	return req, nil
}
