// Package compat drives a real mlfleet server with official Azure clients, to check that
// mlfleet's ARM wire format is what they expect. One server, started in TestMain over HTTPS
// on loopback with a temporary MLFLEET_HOME, is shared by the tests.
package compat

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// server is the mlfleet server every test talks to.
var server *testserver.Server

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	os.Exit(testserver.Main(m.Run, func(s *testserver.Server) { server = s }))
}

// tokenCredential hands the Azure SDK the mlfleet bearer token.
type tokenCredential struct{ cfg *clientconfig.Config }

func (c tokenCredential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.cfg.ReadToken()
	if err != nil {
		return azcore.AccessToken{}, err
	}
	if tok == "" {
		return azcore.AccessToken{}, fmt.Errorf("mlfleet config in %s has no token", server.Home)
	}
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// armOptions point an ARM client at the mlfleet server instead of Azure.
func armOptions() *arm.ClientOptions {
	url := server.Config.Server
	return &arm.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: url, Audience: url},
			}},
			Transport: server.HTTP,
		},
		// mlfleet never answers MissingSubscriptionRegistration; don't try to register.
		DisableRPRegistration: true,
	}
}

func credential() azcore.TokenCredential { return tokenCredential{cfg: server.Config} }
