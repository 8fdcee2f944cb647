package kubeapiserver

import (
	"runtime/debug"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	const placeholder = "v0.0.0-master+$Format:%H$"
	withKube := func(version string, replace *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "k8s.io/api", Version: "v0.37.2"},
			{Path: "k8s.io/kubernetes", Version: version, Replace: replace},
		}}
	}
	const cached = "/root/go/pkg/mod/k8s.io/kubernetes@v1.37.2/cmd/kube-apiserver/app/config.go"
	const trimmed = "k8s.io/kubernetes@v1.37.2/cmd/kube-apiserver/app/config.go"
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		source  string
		want    string
		wantErr bool
	}{
		{name: "module version", stamped: placeholder, info: withKube("v1.37.2", nil), want: "v1.37.2"},
		{name: "replaced by another version", stamped: placeholder, info: withKube("v1.37.0", &debug.Module{Path: "k8s.io/kubernetes", Version: "v1.37.2"}), want: "v1.37.2"},
		{name: "replaced by a directory", stamped: placeholder, info: withKube("v1.37.0", &debug.Module{Path: "../kubernetes"}), source: "/src/kubernetes/cmd/kube-apiserver/app/config.go", wantErr: true},
		{name: "ldflags win", stamped: "v1.37.2-mlfleet.1", info: withKube("v1.37.2", nil), want: "v1.37.2-mlfleet.1"},
		{name: "ldflags without build info", stamped: "v1.37.2", want: "v1.37.2"},
		{name: "test binary: source path", stamped: placeholder, info: &debug.BuildInfo{}, source: cached, want: "v1.37.2"},
		{name: "test binary: trimmed source path", stamped: placeholder, source: trimmed, want: "v1.37.2"},
		{name: "nothing known", stamped: placeholder, info: &debug.BuildInfo{}, source: "/src/kubernetes/cmd/kube-apiserver/app/config.go", wantErr: true},
		{name: "minor disagrees with compiled code", stamped: placeholder, info: withKube("v1.38.0", nil), wantErr: true},
		{name: "not semver", stamped: placeholder, info: withKube("latest", nil), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveVersion(tt.stamped, tt.info, tt.source, "1.37")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("resolveVersion = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolveVersion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestServedVersionInfo(t *testing.T) {
	v, err := newServedVersion("v1.37.2")
	if err != nil {
		t.Fatal(err)
	}
	info := v.Info()
	if info.GitVersion != "v1.37.2" || info.Major != "1" || info.Minor != "37" {
		t.Errorf("Info() = %s %s.%s, want v1.37.2 1.37", info.GitVersion, info.Major, info.Minor)
	}
	if info.EmulationMajor != "1" || info.EmulationMinor != "37" {
		t.Errorf("emulation = %s.%s, want 1.37", info.EmulationMajor, info.EmulationMinor)
	}
	if got := v.BinaryVersion().String(); got != "1.37.2" {
		t.Errorf("BinaryVersion() = %s, want 1.37.2", got)
	}
	if errs := v.Validate(); len(errs) != 0 {
		t.Errorf("Validate() = %v", errs)
	}
}
