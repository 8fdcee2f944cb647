package mlfleet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
)

// API versions the client sends, per resource provider.
const (
	ResourcesAPIVersion        = "2022-09-01"
	MachineLearningAPIVersion  = "2024-04-01"
	ContainerServiceAPIVersion = "2025-02-01"
)

// Client talks to an mlfleet server. It is safe for concurrent use.
type Client struct {
	server       *url.URL
	http         *http.Client
	token        string
	subscription string
	tenant       string
	debug        io.Writer
	pollInterval time.Duration
	retries      int
	maxRetryWait time.Duration
}

type options struct {
	home         string
	server       string
	token        string
	caFile       string
	subscription string
	httpClient   *http.Client
	debug        io.Writer
	pollInterval time.Duration
	retries      int
	maxRetryWait time.Duration
}

// Option configures NewClient.
type Option func(*options)

// WithHome reads the configuration that `mlfleet serve` wrote in home instead of
// $MLFLEET_HOME (or ~/.mlfleet).
func WithHome(home string) Option { return func(o *options) { o.home = home } }

// WithServer sets the server's base URL, e.g. https://127.0.0.1:8443.
func WithServer(u string) Option { return func(o *options) { o.server = u } }

// WithToken sets the bearer token.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithCAFile trusts the CA certificate in this PEM file for the server's certificate.
func WithCAFile(path string) Option { return func(o *options) { o.caFile = path } }

// WithSubscription sets the subscription id.
func WithSubscription(id string) Option { return func(o *options) { o.subscription = id } }

// WithHTTPClient uses hc for every request (its TLS settings win over WithCAFile).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithDebug logs every request and response (without the token) to w.
func WithDebug(w io.Writer) Option { return func(o *options) { o.debug = w } }

// WithPollInterval sets how often long-running operations are polled; 0 means the server's
// Retry-After (1 s by default).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithRetries sets how often a request refused for now (429 Too Many Requests, or 503 with
// Retry-After) is sent again, waiting the server's Retry-After each time, and the longest
// such wait: an answer asking for a longer one is returned as the error at once. The
// default is 4 retries of at most 60 s each; 0 retries turns retrying off.
func WithRetries(n int, maxWait time.Duration) Option {
	return func(o *options) { o.retries, o.maxRetryWait = n, maxWait }
}

// NewClient returns a Client. Settings not given as options come from the environment
// (MLFLEET_SERVER, MLFLEET_TOKEN, MLFLEET_SUBSCRIPTION) and then from the configuration in
// the mlfleet home directory.
func NewClient(opts ...Option) (*Client, error) {
	o := options{server: os.Getenv("MLFLEET_SERVER"), token: os.Getenv("MLFLEET_TOKEN"), subscription: os.Getenv("MLFLEET_SUBSCRIPTION"),
		retries: 4, maxRetryWait: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	var cfg *clientconfig.Config
	if o.server == "" || o.token == "" || o.subscription == "" {
		home := o.home
		if home == "" {
			h, err := clientconfig.Home()
			if err != nil {
				return nil, err
			}
			home = h
		}
		c, err := clientconfig.Load(home)
		if err != nil {
			return nil, err
		}
		cfg = c
		if o.server == "" {
			o.server = c.Server
		}
		if o.subscription == "" {
			o.subscription = c.Subscription
		}
		if o.token == "" {
			t, err := c.ReadToken()
			if err != nil {
				return nil, err
			}
			o.token = t
		}
		if o.caFile == "" {
			o.caFile = c.CAFile
		}
	}
	u, err := url.Parse(strings.TrimRight(o.server, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("server URL %q is not an absolute URL like https://127.0.0.1:8443", o.server)
	}
	hc := o.httpClient
	if hc == nil {
		if hc, err = NewHTTPClient(o.caFile); err != nil {
			return nil, err
		}
	}
	c := &Client{server: u, http: hc, token: o.token, subscription: o.subscription, debug: o.debug, pollInterval: o.pollInterval,
		retries: max(o.retries, 0), maxRetryWait: o.maxRetryWait}
	if cfg != nil {
		c.tenant = cfg.Tenant
	}
	return c, nil
}

// NewHTTPClient returns an HTTP client for an mlfleet server that trusts the CA in caFile
// ("" = the system's roots) and does not follow redirects of writes.
func NewHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute, CheckRedirect: noWriteRedirects}, nil
}

// SubscriptionID returns the subscription the client works in.
func (c *Client) SubscriptionID() string { return c.subscription }

// Server returns the server's base URL.
func (c *Client) Server() string { return c.server.String() }

// Token returns the bearer token the client sends.
func (c *Client) Token() string { return c.token }

// request is one API call.
type request struct {
	method     string
	path       string // absolute path, or a full URL (nextLink, operation URLs)
	apiVersion string
	query      url.Values
	header     http.Header // extra headers, e.g. If-Match
	body       any
}

// call sends req and returns its answer decoded as a T.
func call[T any](ctx context.Context, c *Client, req request) (*T, error) {
	var out T
	if _, err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// callOperation sends req, a PUT that may start a long-running operation, and returns its
// answer decoded as a T with a poller for the operation (nil when nothing runs).
func callOperation[T any](ctx context.Context, c *Client, req request) (*T, *Poller, error) {
	var out T
	resp, err := c.do(ctx, req, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, c.newPoller(resp), nil
}

// operation sends req, which starts a long-running operation and answers no body worth
// reading, and returns the operation's poller (nil when nothing runs).
func (c *Client) operation(ctx context.Context, req request) (*Poller, error) {
	resp, err := c.do(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	return c.newPoller(resp), nil
}

// do sends req and decodes a 2xx JSON answer into out (when out is not nil). Any non-2xx
// answer becomes an *Error. A request the server refused for now — 429 Too Many Requests,
// or 503 with Retry-After — is sent again after the server's Retry-After (see
// WithRetries): such a request was not processed, so this holds for writes too.
func (c *Client) do(ctx context.Context, req request, out any) (*http.Response, error) {
	u, err := c.resolve(req)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if req.body != nil {
		raw, err = json.Marshal(req.body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	for attempt := 1; ; attempt++ {
		resp, data, err := c.send(ctx, req, u, raw)
		if err != nil {
			return nil, err
		}
		if wait, ok := c.retryWait(ctx, resp, attempt); ok {
			if c.debug != nil {
				fmt.Fprintf(c.debug, "DEBUG: Response %d: retrying in %v (retry %d of %d)\n", resp.StatusCode, wait, attempt, c.retries)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return resp, fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), newError(resp, data))
			case <-t.C:
			}
			continue
		}
		if resp.StatusCode >= 300 {
			return resp, newError(resp, data)
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return resp, fmt.Errorf("decode response of %s %s: %w", req.method, u, err)
			}
		}
		return resp, nil
	}
}

// send makes one attempt at a request and reads the whole answer.
func (c *Client) send(ctx context.Context, req request, u string, raw []byte) (*http.Response, []byte, error) {
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", "mlfleet-go-sdk")
	if raw != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if c.debug != nil {
		fmt.Fprintf(c.debug, "DEBUG: Request %s %s\n", req.method, u)
		for k, vs := range req.header {
			fmt.Fprintf(c.debug, "DEBUG: Request header %s: %s\n", k, strings.Join(vs, ", "))
		}
		if raw != nil {
			fmt.Fprintf(c.debug, "DEBUG: Request body: %s\n", raw)
		}
	}
	start := time.Now()
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read response: %w", err)
	}
	if c.debug != nil {
		fmt.Fprintf(c.debug, "DEBUG: Response %d in %v (x-ms-request-id %s)\n", resp.StatusCode, time.Since(start).Round(time.Millisecond), resp.Header.Get("x-ms-request-id"))
		if len(data) > 0 {
			fmt.Fprintf(c.debug, "DEBUG: Response body: %s\n", data)
		}
	}
	return resp, data, nil
}

// retryWait says whether to send a request again after this answer to its attempt-th try,
// and after how long: only for 429, or 503 with Retry-After; only while retries are left;
// only when the wait is at most the cap (a longer one is the caller's to decide, and the
// error says it) and ends before ctx's deadline.
func (c *Client) retryWait(ctx context.Context, resp *http.Response, attempt int) (time.Duration, bool) {
	if attempt > c.retries {
		return 0, false
	}
	wait, given := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch {
	case resp.StatusCode == http.StatusTooManyRequests && !given:
		wait = time.Duration(1<<(attempt-1)) * time.Second
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusServiceUnavailable && given:
	default:
		return 0, false
	}
	if wait > c.maxRetryWait {
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
		return 0, false
	}
	return wait, true
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// noWriteRedirects follows redirects of reads only: a redirected PUT or DELETE would act on
// a resource the caller did not name.
func noWriteRedirects(req *http.Request, via []*http.Request) error {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return fmt.Errorf("refusing to follow a redirect of %s to %s", req.Method, req.URL.Redacted())
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// checkNames refuses a request path with a segment that is no name: empty (an empty
// name), "." or ".." (which url.PathEscape leaves as they are, and which would name the
// parent of the resource).
func checkNames(path string) error {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, seg := range segs {
		switch seg {
		case "":
			what := "a name in the request"
			if i > 0 {
				what = emptyNameOf(segs[i-1])
			}
			return &ValidationError{What: "request", Problems: []*Problem{{Message: what + " is empty; give one"}}}
		case ".", "..":
			return &ValidationError{What: "request", Problems: []*Problem{{Message: fmt.Sprintf("'%s' is not a valid name: names cannot be '.' or '..'", seg)}}}
		}
	}
	return nil
}

// emptyNameOf says which name follows the path segment collection ("the compute name"
// after computes), for the message of an empty one.
func emptyNameOf(collection string) string {
	switch strings.ToLower(collection) {
	case "subscriptions":
		return "the subscription id"
	case "resourcegroups":
		return "the resource group name"
	case "workspaces":
		return "the workspace name"
	case "computes":
		return "the compute name"
	case "managedclusters":
		return "the cluster name"
	case "agentpools":
		return "the agent pool name"
	case "locations":
		return "the location"
	}
	return "a name in the request"
}

func (c *Client) resolve(req request) (string, error) {
	var u *url.URL
	if strings.HasPrefix(req.path, "https://") || strings.HasPrefix(req.path, "http://") {
		p, err := url.Parse(req.path)
		if err != nil {
			return "", fmt.Errorf("parse URL %q: %w", req.path, err)
		}
		u = p
	} else {
		if err := checkNames(req.path); err != nil {
			return "", err
		}
		// req.path is already escaped (names go through url.PathEscape): parse, don't assign.
		p, err := url.Parse(strings.TrimRight(c.server.String(), "/") + req.path)
		if err != nil {
			return "", fmt.Errorf("parse URL %q: %w", req.path, err)
		}
		u = p
	}
	q := u.Query()
	for k, vs := range req.query {
		q[k] = vs
	}
	if req.apiVersion != "" && q.Get("api-version") == "" {
		q.Set("api-version", req.apiVersion)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
