package compat

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestClientSecretCredential signs in as a Go program does (README "Go programs"):
// azidentity's client secret credential with mlfleet's tenant id, the appId and secret
// that creating a service principal printed, and a cloud configuration whose authority
// host is the server. MSAL reads the tenant's OpenID discovery document before it has a
// token, which the server must serve without one.
func TestClientSecretCredential(t *testing.T) {
	ctx := context.Background()
	c := server.Client(t)
	sp, err := c.CreatePrincipal(ctx, mlfleet.NewPrincipal{Type: mlfleet.PrincipalServicePrincipal, DisplayName: "go-sdk",
		Role: mlfleet.RoleReader, Scopes: []string{"/subscriptions/" + server.Config.Subscription}})
	if err != nil {
		t.Fatalf("create service principal: %v", err)
	}
	url := server.Config.Server
	clientOptions := azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: url, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: url, Audience: url},
		}},
		Transport: server.HTTP,
	}
	cred, err := azidentity.NewClientSecretCredential(sp.Tenant, sp.AppID, sp.Password, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: clientOptions,
		// Instance discovery asks login.microsoftonline.com about any other host.
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := armOptions()
	opts.ClientOptions = clientOptions
	clusters, err := armcontainerservice.NewManagedClustersClient(server.Config.Subscription, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clusters.NewListPager(nil).NextPage(ctx); err != nil {
		t.Fatalf("list clusters as the service principal: %v", err)
	}
}
