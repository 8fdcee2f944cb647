package cli

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestAutoscaleFlags: the autoscaler flags are checked as az checks them before any call.
func TestAutoscaleFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
		enable  *bool
		lo, hi  int
		profile map[string]any
	}{
		{name: "enable", args: []string{"--enable-cluster-autoscaler", "--min-count", "3", "--max-count", "10"}, enable: ptr(true), lo: 3, hi: 10},
		{name: "update", args: []string{"--update-cluster-autoscaler", "--min-count", "1", "--max-count", "4"}, enable: ptr(true), lo: 1, hi: 4},
		{name: "disable", args: []string{"--disable-cluster-autoscaler"}, enable: ptr(false)},
		{name: "enable without bounds", args: []string{"--enable-cluster-autoscaler", "--min-count", "3"}, wantErr: "both --min-count and --max-count"},
		{name: "two modes", args: []string{"--enable-cluster-autoscaler", "--disable-cluster-autoscaler"}, wantErr: "only one of"},
		{name: "disable with bounds", args: []string{"--disable-cluster-autoscaler", "--max-count", "3"}, wantErr: "cannot be used with --disable"},
		{name: "min above max", args: []string{"--enable-cluster-autoscaler", "--min-count", "5", "--max-count", "3"}, wantErr: "less than or equal"},
		{name: "bounds alone", args: []string{"--min-count", "1", "--max-count", "3"}, wantErr: "need --enable-cluster-autoscaler"},
		{name: "profile", args: []string{"--cluster-autoscaler-profile", "scan-interval=30s scale_down_unneeded_time=5m"},
			profile: map[string]any{"scan-interval": "30s", "scale-down-unneeded-time": "5m"}},
		{name: "bad profile", args: []string{"--cluster-autoscaler-profile", "scan-interval"}, wantErr: "key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &autoscaleFlags{}
			var err error
			var enable *bool
			var lo, hi *int
			var profile map[string]any
			cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
				if enable, lo, hi, err = a.pool(cmd); err != nil {
					return err
				}
				p, err := a.profileMap()
				profile = p
				return err
			}}
			a.bind(cmd.Flags(), true)
			a.bindProfile(cmd.Flags())
			cmd.SetArgs(tc.args)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err = cmd.Execute()
			if testutil.WantErr(t, err, tc.wantErr) {
				return
			}
			if (enable == nil) != (tc.enable == nil) || (enable != nil && *enable != *tc.enable) {
				t.Errorf("enable = %v, want %v", enable, tc.enable)
			}
			if lo != nil && (*lo != tc.lo || *hi != tc.hi) {
				t.Errorf("bounds %d..%d, want %d..%d", *lo, *hi, tc.lo, tc.hi)
			}
			for k, v := range tc.profile {
				if profile[k] != v {
					t.Errorf("profile[%s] = %v, want %v", k, profile[k], v)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
