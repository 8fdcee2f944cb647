package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	h := Handler()
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		contentType        string
		bodyHas            string
	}{
		{name: "page at the root", method: http.MethodGet, path: "/", status: http.StatusOK, contentType: "text/html; charset=utf-8", bodyHas: `<script type="module" src="/ui/app.js">`},
		{name: "page by its file name", method: http.MethodGet, path: "/ui/index.html", status: http.StatusOK, contentType: "text/html; charset=utf-8", bodyHas: "mlfleet Studio"},
		{name: "script", method: http.MethodGet, path: "/ui/app.js", status: http.StatusOK, contentType: "text/javascript; charset=utf-8", bodyHas: "import"},
		{name: "style sheet", method: http.MethodGet, path: "/ui/studio.css", status: http.StatusOK, contentType: "text/css; charset=utf-8", bodyHas: ":root"},
		{name: "icon", method: http.MethodGet, path: "/ui/favicon.svg", status: http.StatusOK, contentType: "image/svg+xml", bodyHas: "<svg"},
		{name: "head has no body", method: http.MethodHead, path: "/ui/app.js", status: http.StatusOK, contentType: "text/javascript; charset=utf-8"},
		{name: "unknown asset", method: http.MethodGet, path: "/ui/nothing.js", status: http.StatusNotFound},
		{name: "directory", method: http.MethodGet, path: "/ui/", status: http.StatusNotFound},
		{name: "path outside", method: http.MethodGet, path: "/ui/../ui.go", status: http.StatusNotFound},
		{name: "not a read", method: http.MethodPost, path: "/", status: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "/", nil)
			req.URL.Path = tt.path // kept as is, not cleaned
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.status)
			}
			for name, want := range map[string]string{
				"Content-Security-Policy": ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
			} {
				if got := rec.Header().Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if tt.method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("HEAD answered %d bytes of body", rec.Body.Len())
			}
			if !strings.Contains(rec.Body.String(), tt.bodyHas) {
				t.Errorf("body has no %q", tt.bodyHas)
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	t.Parallel()
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/app.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, rec.Header().Get("Cache-Control"))
	}
	req := httptest.NewRequest(http.MethodGet, "/ui/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("GET with If-None-Match %s = %d with %d bytes, want 304 and no body", etag, rec.Code, rec.Body.Len())
	}
}

// TestNoInlineCode keeps the files compatible with the Content-Security-Policy: no inline
// script or style, no event-handler attributes, nothing loaded from another origin.
func TestNoInlineCode(t *testing.T) {
	t.Parallel()
	forbidden := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"inline script", regexp.MustCompile(`<script(\s[^>]*)?>[^<\s]`)},
		{"script without src", regexp.MustCompile(`<script(?:\s+(?:type|defer|async)(?:="[^"]*")?)*\s*>`)},
		{"style element", regexp.MustCompile(`<style[\s>]`)},
		{"style attribute", regexp.MustCompile(`\sstyle\s*=`)},
		{"event-handler attribute", regexp.MustCompile(`\son[a-z]+\s*=\s*["']`)},
		{"URL of another origin", regexp.MustCompile(`(src|href)\s*=\s*["'](https?:)?//`)},
		{"javascript: URL", regexp.MustCompile(`javascript:`)},
		{"innerHTML", regexp.MustCompile(`\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write`)},
		{"eval", regexp.MustCompile(`\beval\(|new Function\(`)},
	}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".html") && !strings.HasSuffix(p, ".js") {
			return nil
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		for _, f := range forbidden {
			if loc := f.re.FindIndex(b); loc != nil {
				t.Errorf("%s has %s: %q", p, f.what, b[loc[0]:min(loc[1]+40, len(b))])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestModulesPreloaded keeps index.html's modulepreload links in step with the modules:
// every script app.js imports, directly or not, is fetched at once instead of one import
// level after another.
func TestModulesPreloaded(t *testing.T) {
	t.Parallel()
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := fs.Glob(static, "static/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range scripts {
		name := strings.TrimPrefix(p, "static/")
		if name == "app.js" {
			continue // the page's own script element
		}
		if link := `<link rel="modulepreload" href="` + Prefix + name + `">`; !strings.Contains(string(page), link) {
			t.Errorf("index.html has no %s", link)
		}
	}
}
