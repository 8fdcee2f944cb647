package endpoints

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/inference"
)

// Limits of a test request sent through Score (Studio's test box).
const (
	// ScoreMaxRequest caps the request body forwarded to the scoring URI.
	ScoreMaxRequest = 1 << 20
	// ScoreMaxAnswer caps the part of the answer returned; the rest is cut off.
	ScoreMaxAnswer = 1 << 20
	// ScoreTimeout bounds the whole exchange with the endpoint's router.
	ScoreTimeout = 60 * time.Second
)

// ScoreResult is the answer of the endpoint's router to a test request, returned as a
// value whatever its status: a 4xx or 5xx of the router is the test's result, not an error
// of the API.
type ScoreResult struct {
	// StatusCode is the router's HTTP status.
	StatusCode int `json:"statusCode"`
	// ContentType is the answer's Content-Type.
	ContentType string `json:"contentType,omitempty"`
	// Body is the answer as text, at most ScoreMaxAnswer bytes.
	Body string `json:"body"`
	// Truncated says the answer was longer than ScoreMaxAnswer.
	Truncated bool `json:"truncated,omitempty"`
	// Deployment is the deployment that answered, when the router says so.
	Deployment string `json:"deployment,omitempty"`
	// DurationMs is how long the exchange took, in milliseconds.
	DurationMs int64 `json:"durationMs"`
}

// Score sends body to an endpoint's scoring URI with its primary key (authMode Key) or a
// fresh token (AMLToken), as a user of the endpoint would, and returns the router's answer.
// deployment, when set, pins the request (azureml-model-deployment). It lets a browser
// whose Content-Security-Policy keeps it on the API's origin test an endpoint.
func (s *Service) Score(ctx context.Context, sub, rg, ws, name, deployment string, body []byte) (*ScoreResult, error) {
	if len(body) > ScoreMaxRequest {
		return nil, arm.Errorf(http.StatusRequestEntityTooLarge, arm.CodeInvalidRequestContent, "The test request is larger than %d bytes; send a smaller one, or invoke the scoring URI directly.", ScoreMaxRequest)
	}
	ep, _, err := s.GetEndpoint(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	// The URI the operations recorded is used, not looked up again, so that Score calls
	// exactly what a GET of the endpoint shows its users.
	uri := ep.Properties.ScoringURI
	if uri == "" {
		msg := "Online endpoint '" + ep.Name + "' has no scoring URI yet"
		if ep.Properties.Mlfleet != nil && ep.Properties.Mlfleet.Message != "" {
			msg += ": " + ep.Properties.Mlfleet.Message
		}
		return nil, arm.Conflict("%s. Deploy to it, or wait until its compute is ready.", msg)
	}
	// The primary key, as a client given the endpoint's keys would use first; the
	// secondary exists to rotate the primary without downtime.
	var credential string
	switch ep.Properties.AuthMode {
	case AuthAMLToken:
		tok, err := s.Token(ctx, sub, rg, ws, name)
		if err != nil {
			return nil, err
		}
		credential = tok.AccessToken
	default:
		k, err := s.loadKeys(ctx, s.cfg.Store, ep.ID)
		if err != nil {
			return nil, err
		}
		credential = k.PrimaryKey
	}
	ctx, cancel := context.WithTimeout(ctx, ScoreTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, bytes.NewReader(body))
	if err != nil {
		return nil, arm.Conflict("Online endpoint '%s' has a scoring URI that cannot be called (%s): %v.", ep.Name, uri, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+credential)
	if deployment != "" {
		req.Header.Set(inference.HeaderDeployment, deployment)
	}
	start := s.now()
	resp, err := s.scoreClient.Do(req)
	// Failing to reach the router is the API's 502/504, unlike an answer from it, which
	// is the test's result whatever its status.
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, arm.Errorf(http.StatusGatewayTimeout, "GatewayTimeout", "Online endpoint '%s' did not answer within %s at %s.", ep.Name, ScoreTimeout, uri)
		}
		return nil, arm.Errorf(http.StatusBadGateway, "BadGateway", "Online endpoint '%s' could not be reached at %s: %v. Check that its compute is running.", ep.Name, uri, err)
	}
	defer resp.Body.Close()
	// One byte past the cap tells a cut answer from one of exactly ScoreMaxAnswer bytes.
	data, err := io.ReadAll(io.LimitReader(resp.Body, ScoreMaxAnswer+1))
	if err != nil {
		return nil, arm.Errorf(http.StatusBadGateway, "BadGateway", "Reading the answer of online endpoint '%s' failed: %v.", ep.Name, err)
	}
	out := &ScoreResult{
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Deployment:  resp.Header.Get(inference.HeaderDeployment),
		DurationMs:  s.now().Sub(start).Milliseconds(),
	}
	if len(data) > ScoreMaxAnswer {
		data, out.Truncated = data[:ScoreMaxAnswer], true
	}
	out.Body = string(data)
	return out, nil
}

// newScoreClient returns the client of Score, made once per Service so that test requests
// reuse their connections: it trusts roots (the server's CA, which signs the routers'
// certificates of TLS Auto computes) and follows no redirects, so that the request and its
// key go to the scoring URI only and a redirect is shown as the router's answer.
func newScoreClient(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
