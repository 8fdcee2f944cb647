// Package providertest has stand-ins for cluster providers in tests.
package providertest

import (
	"context"

	"github.com/mlfleet/mlfleet/internal/provider"
)

// InfoOnly stands in for a provider in tests that need what it says of itself (its name,
// versions and abilities) and nothing it runs: every other method refuses with
// provider.ErrUnsupported, so a test that reaches one fails visibly.
type InfoOnly struct {
	I provider.Info
}

var _ provider.Provider = InfoOnly{}

func (p InfoOnly) Info() provider.Info { return p.I }

func (InfoOnly) Ensure(context.Context, provider.ClusterSpec) (*provider.Status, error) {
	return nil, provider.ErrUnsupported
}

func (InfoOnly) Status(context.Context, string) (*provider.Status, error) {
	return nil, provider.ErrUnsupported
}

func (InfoOnly) Scale(context.Context, string, provider.NodePool) error {
	return provider.ErrUnsupported
}

func (InfoOnly) SetAuthorizedIPRanges(context.Context, string, []string) error {
	return provider.ErrUnsupported
}

func (InfoOnly) Credentials(context.Context, string) (*provider.Credentials, error) {
	return nil, provider.ErrUnsupported
}

func (InfoOnly) Delete(context.Context, string) error { return provider.ErrUnsupported }

func (InfoOnly) Close(context.Context) error { return nil }
