package kubeapiserver

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	utilversion "k8s.io/apimachinery/pkg/util/version"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"
	baseversion "k8s.io/component-base/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// kubernetesModule is the module whose version is the version of the kube-apiserver code that
// is compiled into the binary.
const kubernetesModule = "k8s.io/kubernetes"

// KubernetesVersion returns the Kubernetes version that the embedded kube-apiserver runs,
// such as "v1.37.2", which is also what GET /version of every Server reports.
//
// It is, in this order:
//
//  1. the version stamped with -ldflags into k8s.io/component-base/version, when the binary
//     was built that way (the Kubernetes release process does);
//  2. the version of the k8s.io/kubernetes module in the binary's build information
//     (go build, go run, go install);
//  3. the version in the source path of the compiled kube-apiserver code, which the module
//     cache names k8s.io/kubernetes@<version>/... (go test: test binaries carry no
//     dependency build information, but the position information of every function does,
//     with or without -trimpath).
//
// Each of them describes the code actually compiled in. An error means the version cannot
// be known (k8s.io/kubernetes replaced by a local directory, or a version that disagrees
// with the compiled-in Kubernetes minor); Start then refuses to start rather than report a
// made-up version.
func KubernetesVersion() (string, error) {
	return resolvedVersion()
}

var resolvedVersion = sync.OnceValues(func() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	// Any function of the k8s.io/kubernetes module will do; this one is what Start runs.
	sourceFile, _ := runtime.FuncForPC(reflect.ValueOf(app.NewConfig).Pointer()).FileLine(0)
	return resolveVersion(baseversion.Get().GitVersion, info, sourceFile, baseversion.DefaultKubeBinaryVersion)
})

// resolveVersion picks the served version from the stamped git version, the build
// information or the source path of a k8s.io/kubernetes function, and checks it against the
// major.minor that the compiled-in component-base was released with.
func resolveVersion(stamped string, info *debug.BuildInfo, sourceFile, compiledMinor string) (string, error) {
	version := ""
	switch {
	case !isPlaceholderVersion(stamped):
		version = stamped
	case info != nil && moduleVersion(info) != "":
		version = moduleVersion(info)
	default:
		const marker = kubernetesModule + "@"
		i := strings.Index(sourceFile, marker)
		if i < 0 {
			return "", fmt.Errorf("resolve kubernetes version: no -ldflags version, no %s version in the build information, and source path %q names none", kubernetesModule, sourceFile)
		}
		version, _, _ = strings.Cut(sourceFile[i+len(marker):], "/")
	}

	v, err := utilversion.ParseSemantic(version)
	if err != nil {
		return "", fmt.Errorf("resolve kubernetes version: %w", err)
	}
	want, err := utilversion.ParseMajorMinor(compiledMinor)
	if err != nil {
		return "", fmt.Errorf("resolve kubernetes version: %w", err)
	}
	if v.Major() != want.Major() || v.Minor() != want.Minor() {
		return "", fmt.Errorf("resolve kubernetes version: %s %s does not match the compiled-in Kubernetes %s", kubernetesModule, version, compiledMinor)
	}
	return version, nil
}

// moduleVersion returns the version of k8s.io/kubernetes in info, "" if it has none.
func moduleVersion(info *debug.BuildInfo) string {
	for _, dep := range info.Deps {
		if dep.Path != kubernetesModule {
			continue
		}
		if dep.Replace != nil {
			// A replacement by another module version names the code actually compiled in;
			// a replacement by a local directory has no version at all.
			return dep.Replace.Version
		}
		return dep.Version
	}
	return ""
}

// isPlaceholderVersion tells whether gitVersion is the value component-base has when no
// -ldflags stamped it ("v0.0.0-master+$Format:%H$"), or is otherwise unusable.
func isPlaceholderVersion(gitVersion string) bool {
	return gitVersion == "" || strings.HasPrefix(gitVersion, "v0.0.0") || strings.Contains(gitVersion, "$Format")
}

// servedVersion is the effective version given to an apiserver. The wrapped effective version
// answers everything that drives behaviour (binary, emulation and minimum compatibility
// versions, hence which APIs and features are on); only the /version document is corrected.
//
// This is needed because the upstream effective version builds that document from
// k8s.io/component-base/version.Get(), whose GitVersion is the -ldflags value or the
// v0.0.0-master placeholder, and version.SetDynamicVersion only accepts versions with the
// placeholder's major.minor.patch (0.0.0).
type servedVersion struct {
	basecompatibility.MutableEffectiveVersion
	gitVersion string
	stamped    bool
}

// binaryServedVersion is the served version of the Kubernetes version this binary runs.
func binaryServedVersion() (*servedVersion, error) {
	gitVersion, err := KubernetesVersion()
	if err != nil {
		return nil, err
	}
	return newServedVersion(gitVersion)
}

// newServedVersion returns an effective version whose binary version is gitVersion.
func newServedVersion(gitVersion string) (*servedVersion, error) {
	binary, err := utilversion.ParseSemantic(gitVersion)
	if err != nil {
		return nil, fmt.Errorf("parse kubernetes version: %w", err)
	}
	// The same floors as the kube-apiserver binary: a binary can emulate its three previous
	// minors. Emulation is never asked for here, but the floors are validated.
	floor := utilversion.MajorMinor(binary.Major(), binary.Minor()).SubtractMinor(3)
	return &servedVersion{
		MutableEffectiveVersion: basecompatibility.NewEffectiveVersion(binary, false, floor, floor),
		gitVersion:              gitVersion,
		stamped:                 !isPlaceholderVersion(baseversion.Get().GitVersion),
	}, nil
}

// Info returns the /version document: the upstream one with the true GitVersion. Without
// -ldflags the git commit and build date are unknown; they are left empty rather than
// reporting the placeholders.
func (v *servedVersion) Info() *apimachineryversion.Info {
	info := v.MutableEffectiveVersion.Info()
	if info == nil {
		return nil
	}
	info.GitVersion = v.gitVersion
	if !v.stamped {
		info.GitCommit = ""
		info.GitTreeState = ""
		info.BuildDate = ""
	}
	return info
}
