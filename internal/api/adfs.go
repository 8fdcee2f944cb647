package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
)

// The token endpoint is an ADFS-style OAuth 2.0 authority inside mlfleet, which is where
// the Azure CLI (and MSAL) sign in when a cloud's login endpoint ends in /adfs. It needs
// no bearer token: it is how a principal gets one.
const (
	adfsPrefix        = "/adfs"
	adfsTokenPath     = adfsPrefix + "/oauth2/token"
	adfsDiscoveryPath = adfsPrefix + "/.well-known/openid-configuration"
	adfsKeysPath      = adfsPrefix + "/discovery/keys"
)

// The tenant's OpenID discovery is what an AAD-style authority (https://server/{tenant},
// as azidentity builds it from a tenant id) is asked before any token exists: MSAL reads
// /{tenant}/v2.0/.well-known/openid-configuration for the token endpoint, and, with
// instance discovery on, /common/discovery/instance first. Both are served without a
// token and point at the ADFS-style token endpoint above.
const (
	tenantDiscoverySuffix = "/v2.0/.well-known/openid-configuration"
	instanceDiscoveryPath = "/common/discovery/instance"
)

// metadataPath is where Azure clients discover a cloud's endpoints (`az cloud register
// --endpoint-resource-manager URL` fetches it, as for Azure Stack Hub).
const metadataPath = "/metadata/endpoints"

// anonymous reports whether a request is for a page served without authentication.
func anonymous(method, path string) bool {
	switch {
	case (method == http.MethodGet || method == http.MethodHead) && isMetadataPath(path):
		return true
	case strings.EqualFold(path, adfsTokenPath):
		// Every method, so that one other than POST gets its 405 here, not a 401 or a
		// 404 from the API's routes.
		return true
	case (method == http.MethodGet || method == http.MethodHead) && (strings.EqualFold(path, adfsDiscoveryPath) || strings.EqualFold(path, adfsKeysPath)):
		return true
	case (method == http.MethodGet || method == http.MethodHead) && (tenantOfDiscovery(path) != "" || strings.EqualFold(path, instanceDiscoveryPath)):
		return true
	}
	return false
}

// tenantOfDiscovery returns the tenant of a path /{tenant}/v2.0/.well-known/openid-configuration,
// or "" for any other path.
func tenantOfDiscovery(path string) string {
	if len(path) < len(tenantDiscoverySuffix) || !strings.EqualFold(path[len(path)-len(tenantDiscoverySuffix):], tenantDiscoverySuffix) {
		return ""
	}
	tenant := strings.TrimPrefix(path[:len(path)-len(tenantDiscoverySuffix)], "/")
	if tenant == "" || strings.Contains(tenant, "/") {
		return ""
	}
	return tenant
}

// isMetadataPath accepts /metadata/endpoints and //metadata/endpoints, which is what a
// client asks for when the URL it was given ends in a slash.
func isMetadataPath(path string) bool {
	return strings.EqualFold(path, metadataPath) || strings.EqualFold(path, "/"+metadataPath)
}

// serveAnonymous serves the paths anonymous admits: cloud metadata, the token endpoint,
// and the OpenID discovery document and keys that MSAL reads before it asks for a token.
func (s *Server) serveAnonymous(w http.ResponseWriter, r *http.Request) {
	if isMetadataPath(r.URL.Path) {
		s.cloudMetadata(w, r)
		return
	}
	switch {
	case strings.EqualFold(r.URL.Path, adfsTokenPath):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, r, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The token endpoint %s answers POST only.", adfsTokenPath))
			return
		}
		s.token(w, r)
	case strings.EqualFold(r.URL.Path, adfsKeysPath):
		// Without a signing key there are no ID tokens to verify; an empty key set is
		// still a valid JWKS document.
		keys := map[string]any{"keys": []any{}}
		if k := s.cfg.Auth.SigningKey(); k != nil {
			keys = k.JWKS()
		}
		writeJSON(w, http.StatusOK, keys)
	case strings.EqualFold(r.URL.Path, instanceDiscoveryPath):
		s.instanceDiscovery(w, r)
	case tenantOfDiscovery(r.URL.Path) != "":
		s.tenantOpenIDConfiguration(w, r, tenantOfDiscovery(r.URL.Path))
	default:
		s.openIDConfiguration(w, r)
	}
}

// knownTenant reports whether tenant names mlfleet's one tenant: its id, or the aliases
// that AAD accepts for "the tenant of whoever signs in".
func (s *Server) knownTenant(tenant string) bool {
	switch strings.ToLower(tenant) {
	case "common", "organizations":
		return true
	}
	return strings.EqualFold(tenant, s.cfg.Auth.Tenant())
}

// tenantOpenIDConfiguration is the discovery document of the AAD-style authority
// https://server/{tenant}. Its issuer has the authority's host, which MSAL checks; the
// token endpoint is the ADFS-style one, which takes the same client_credentials form.
func (s *Server) tenantOpenIDConfiguration(w http.ResponseWriter, r *http.Request, tenant string) {
	if !s.knownTenant(tenant) {
		// AAD's answer to an unknown tenant, with the one to use.
		oauthError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant '"+tenant+"' not found. mlfleet's tenant is "+s.cfg.Auth.Tenant()+
			" ('mlfleet account show --query tenantId').")
		return
	}
	doc := openIDDocument(r.Host, "https://"+r.Host+"/"+s.cfg.Auth.Tenant()+"/v2.0")
	doc["cloud_instance_name"] = r.Host
	writeJSON(w, http.StatusOK, doc)
}

// instanceDiscovery is AAD's instance discovery answer for mlfleet's own host: the tenant
// discovery document to read, and no aliases but the host itself.
func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": "https://" + r.Host + "/" + s.cfg.Auth.Tenant() + tenantDiscoverySuffix,
		"api-version":               "1.1",
		"metadata":                  []any{map[string]any{"preferred_network": r.Host, "preferred_cache": r.Host, "aliases": []string{r.Host}}},
	})
}

// cloudMetadata describes mlfleet as a cloud: its token authority (an ADFS-style one in
// mlfleet itself) and the audience tokens are for (the server's URL).
func (s *Server) cloudMetadata(w http.ResponseWriter, r *http.Request) {
	base := "https://" + r.Host
	writeJSON(w, http.StatusOK, map[string]any{
		"galleryEndpoint": base + "/",
		"graphEndpoint":   base + "/graph/",
		"portalEndpoint":  base + "/",
		"authentication": map[string]any{
			"loginEndpoint": base + adfsPrefix,
			"audiences":     []string{base + "/"},
		},
	})
}

// openIDConfiguration is the ADFS authority's OpenID discovery document, where an OpenID
// client finds the token endpoint and the keys of ID tokens. Its URLs are built from the
// request's host, so that they name the address the client used.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openIDDocument(r.Host, "https://"+r.Host+adfsPrefix))
}

// openIDDocument is the OpenID discovery document of an authority with issuer issuer on
// host. The ADFS-style authority and the AAD-style tenant differ only in it: both use
// mlfleet's one token endpoint and key set.
func openIDDocument(host, issuer string) map[string]any {
	base := "https://" + host
	return map[string]any{
		"issuer":                                issuer,
		"token_endpoint":                        base + adfsTokenPath,
		"authorization_endpoint":                base + adfsPrefix + "/oauth2/authorize",
		"jwks_uri":                              base + adfsKeysPath,
		"grant_types_supported":                 []string{"client_credentials", "password", "refresh_token"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"subject_types_supported":               []string{"pairwise"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"response_types_supported":              []string{"token", "id_token"},
		"scopes_supported":                      []string{"openid", "profile", "offline_access"},
	}
}

// tokenAnswer is a successful token response (RFC 6749 section 5.1).
type tokenAnswer struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	ExpiresOn    int64  `json:"expires_on"`
	// The password and refresh grants also return who signed in and how to renew it.
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// oauthError writes an RFC 6749 error body.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// token serves the client_credentials grant (a service principal's appId and secret), the
// password grant (a user's name and password) and the refresh_token grant. Its errors are
// OAuth 2.0 bodies (RFC 6749 5.2), not ARM ones: MSAL, inside az, parses these. The
// messages start with ADFS-style MSIS codes, as the authority az believes it talks to.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Send the token request as application/x-www-form-urlencoded.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil || len(body) > 64<<10 {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token request body is unreadable or larger than 64 KiB.")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token request body is not a valid form: "+err.Error())
		return
	}
	var login, secret string
	switch grant := form.Get("grant_type"); grant {
	case "client_credentials":
		login, secret = form.Get("client_id"), form.Get("client_secret")
		// RFC 6749 2.3.1 lets a client authenticate with HTTP Basic instead of the form;
		// when it sends both, the header wins.
		if id, pw, ok := r.BasicAuth(); ok {
			login, secret = id, pw
		}
		if login == "" || secret == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "client_credentials needs client_id and client_secret (the appId and password of 'mlfleet ad sp create-for-rbac').")
			return
		}
	case "password":
		login, secret = form.Get("username"), form.Get("password")
		if login == "" || secret == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The password grant needs username and password.")
			return
		}
	case "refresh_token":
		if form.Get("refresh_token") == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The refresh_token grant needs refresh_token.")
			return
		}
		token, tok, p, err := s.cfg.Auth.Refresh(r.Context(), form.Get("refresh_token"))
		if errors.Is(err, auth.ErrInvalidCredentials) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "MSIS9615: The refresh token is unknown, expired or revoked: sign in again ('az login' or 'mlfleet login').")
			return
		}
		if err != nil {
			s.log.Error("token request failed", "err", err)
			oauthError(w, http.StatusInternalServerError, "server_error", "The server could not issue a token; see its log.")
			return
		}
		s.writeToken(w, r, form, token, tok, p, form.Get("refresh_token"))
		return
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required: client_credentials, password or refresh_token.")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "mlfleet supports the client_credentials, password and refresh_token grants, not '"+grant+"'.")
		return
	}
	token, tok, p, err := s.cfg.Auth.Login(r.Context(), login, secret)
	// RFC 6749 5.2: a wrong user password is invalid_grant (400), a wrong client secret
	// invalid_client (401).
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials) && form.Get("grant_type") == "password":
		oauthError(w, http.StatusBadRequest, "invalid_grant", "MSIS9659: Invalid 'username' or 'password': no user '"+login+"' with that password in tenant "+s.cfg.Auth.Tenant()+".")
		return
	case errors.Is(err, auth.ErrInvalidCredentials):
		oauthError(w, http.StatusUnauthorized, "invalid_client", "MSIS9607: The client '"+login+"' is unknown or its secret is wrong: check the appId and password that 'mlfleet ad sp create-for-rbac' printed (or reset it with 'mlfleet ad sp credential reset').")
		return
	case err != nil:
		s.log.Error("token request failed", "err", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "The server could not issue a token; see its log.")
		return
	}
	// Only a user's sign-in gets a refresh token: a service principal signs in again
	// with its secret (RFC 6749 4.4.3: no refresh token for client credentials).
	refresh := ""
	if form.Get("grant_type") == "password" {
		if refresh, err = s.cfg.Auth.IssueRefresh(r.Context(), p.ID, p.Login); err != nil {
			s.log.Error("token request failed", "err", err)
			oauthError(w, http.StatusInternalServerError, "server_error", "The server could not issue a token; see its log.")
			return
		}
	}
	s.writeToken(w, r, form, token, tok, p, refresh)
}

// writeToken answers a token request; a user's sign-in (password or refresh grant) also
// gets an ID token and its refresh token.
func (s *Server) writeToken(w http.ResponseWriter, r *http.Request, form url.Values, token string, tok *store.Token, p *store.Principal, refresh string) {
	in := int64(time.Until(tok.ExpiresAt).Seconds())
	answer := tokenAnswer{TokenType: "Bearer", AccessToken: token, ExpiresIn: in, ExtExpiresIn: in, ExpiresOn: tok.ExpiresAt.Unix()}
	if refresh != "" {
		answer.RefreshToken, answer.Scope = refresh, form.Get("scope")
		if k := s.cfg.Auth.SigningKey(); k != nil {
			caller := &auth.Principal{ID: p.ID, Name: p.Login, DisplayName: p.Name, Type: p.Type}
			audience := form.Get("client_id")
			if audience == "" {
				audience = "mlfleet"
			}
			id, err := k.IDToken("https://"+r.Host+adfsPrefix, audience, s.cfg.Auth.Tenant(), caller, time.Now(), time.Hour)
			// The access token is what the client needs; a sign-in without an ID token
			// still works, so a signing failure is logged rather than failing it.
			if err != nil {
				s.log.Error("sign ID token", "err", err)
			}
			answer.IDToken = id
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(answer)
}
