package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
)

// TestServerDown: a command whose server does not listen keeps the connection error and
// asks whether mlfleet serve runs at that address, naming where the address came from,
// the home's configuration or MLFLEET_SERVER, with the advice that fits it: another home
// (MLFLEET_HOME), or MLFLEET_SERVER checked or unset (another home changes nothing while it
// is set).
func TestServerDown(t *testing.T) {
	dead := "https://" + deadAddress(t)
	cases := []struct {
		name, envServer, wantFrom, wantAdvice string
		// notAdvice is advice that does not fit where the address came from.
		notAdvice string
	}{
		{"from the home", "", "(MLFLEET_HOME=", "point the CLI at the home of the server you mean with MLFLEET_HOME", "MLFLEET_SERVER"},
		{"from MLFLEET_SERVER", dead, "(MLFLEET_SERVER)", "check MLFLEET_SERVER: set it to the address of the server you mean, or unset it to use the server of the home",
			"point the CLI at the home of the server you mean with MLFLEET_HOME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			if err := clientconfig.Save(home, &clientconfig.Config{Server: dead, Subscription: "sub1", Token: "t"}); err != nil {
				t.Fatal(err)
			}
			t.Setenv("MLFLEET_HOME", home)
			t.Setenv("MLFLEET_SERVER", tc.envServer)
			t.Setenv("MLFLEET_TOKEN", "")
			t.Setenv("MLFLEET_SUBSCRIPTION", "")
			var out, errb bytes.Buffer
			err := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, []string{"group", "list"})
			if ExitCode(err) != 1 {
				t.Errorf("exit %d, want 1", ExitCode(err))
			}
			wantFrom := tc.wantFrom
			if tc.envServer == "" {
				wantFrom += home + ")"
			}
			for _, want := range []string{"connect: connection refused", "Is 'mlfleet serve' running at " + dead + "? " + wantFrom, tc.wantAdvice} {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("stderr %q\nwant it to say %q", errb.String(), want)
				}
			}
			if strings.Contains(errb.String(), tc.notAdvice) {
				t.Errorf("stderr %q\nsays %q, which does not fit where the address came from", errb.String(), tc.notAdvice)
			}
		})
	}
}
