package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestIsCobraUsage: cobra's and pflag's parse errors are usage errors (exit 2); an answer of
// the server is not, even when its message has words cobra uses, and neither is an error
// that only contains them further on.
func TestIsCobraUsage(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errors.New(`unknown command "extra" for "mlfleet ml computetarget show"`), true},
		{errors.New("accepts 1 arg(s), received 2"), true},
		{errors.New(`required flag(s) "name" not set`), true},
		{errors.New("requires at least 1 arg(s), only received 0"), true},
		{&mlfleet.Error{StatusCode: 400, Code: "BadRequest", Message: "Cluster 'c1' accepts API server connections only from 10.0.0.0/8."}, false},
		{fmt.Errorf("attach: %w", &mlfleet.Error{StatusCode: 400, Code: "InvalidParameter", Message: "invalid argument"}), false},
		{errors.New("read deployment.yml: line 3: unknown flag style"), false},
	}
	for _, tt := range tests {
		if got := isCobraUsage(tt.err); got != tt.want {
			t.Errorf("isCobraUsage(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestJSONCIsPlainWhenPiped: -o jsonc colours only a terminal, as az does; into a pipe or a
// file it is plain json, with no escape codes.
func TestJSONCIsPlainWhenPiped(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MLFLEET_HOME", home)
	if err := clientconfig.Save(home, &clientconfig.Config{Server: "https://127.0.0.1:1", Subscription: "s1"}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	streams := Streams{In: strings.NewReader(""), Out: &out, Err: &errb}
	if err := Run(context.Background(), streams, []string{"configure", "--defaults", "group=rg1"}); err != nil {
		t.Fatalf("configure: %v %s", err, errb.String())
	}
	if err := Run(context.Background(), streams, []string{"configure", "--list-defaults", "-o", "jsonc"}); err != nil {
		t.Fatalf("configure --list-defaults: %v %s", err, errb.String())
	}
	if strings.Contains(out.String(), "\x1b[") || !strings.Contains(out.String(), `"value": "rg1"`) {
		t.Errorf("-o jsonc into a buffer = %q, want plain json", out.String())
	}
}

// TestErrorDetailsPrintedOnce: a refusal's list of problems is printed under its headline
// only when it adds something: with two problems or more, or one that says something else.
// One problem, which the server's validation also sends as a one-item list, is printed
// once.
func TestErrorDetailsPrintedOnce(t *testing.T) {
	const headline = "traffic adds up to 110 percent; it must add up to 100 (or 0 to send nothing)."
	problem := map[string]any{"code": "UserError", "message": headline}
	for _, tc := range []struct {
		name    string
		message string
		details []any
		want    string
	}{
		{name: "one problem", message: headline, details: []any{problem}, want: "ERROR: (UserError) " + headline + "\n"},
		{name: "one problem with its own code", message: headline, details: []any{map[string]any{"code": "InvalidResourceName", "message": headline}},
			want: "ERROR: (UserError) " + headline + "\n"},
		{name: "no details", message: headline, want: "ERROR: (UserError) " + headline + "\n"},
		{name: "two problems", message: "2 checks failed. A. B.",
			details: []any{map[string]any{"code": "UserError", "message": "A."}, map[string]any{"code": "UserError", "message": "B."}},
			want:    "ERROR: (UserError) 2 checks failed. A. B.\n  - (UserError) A.\n  - (UserError) B.\n"},
		{name: "one detail that says more", message: "The request is invalid.", details: []any{problem},
			want: "ERROR: (UserError) The request is invalid.\n  - (UserError) " + headline + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "UserError", "message": tc.message, "details": tc.details}})
			}))
			defer srv.Close()
			_, errOut, code := runAgainst(t, srv, "group", "show", "-n", "rg1")
			if code != 1 || errOut != tc.want {
				t.Errorf("exit %d, stderr\n%s\nwant exit 1 and\n%s", code, errOut, tc.want)
			}
		})
	}
}
