package cli

import (
	"os"
	"time"

	"github.com/spf13/cobra"
)

func newAccountCommand(streams Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Show the subscription and get access tokens"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Show the subscription the CLI uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			sub, err := c.Subscription(cmd.Context())
			if err != nil {
				return err
			}
			return g.print(streams, map[string]any{
				"environmentName":    "mlfleet",
				"id":                 sub.SubscriptionID,
				"isDefault":          true,
				"name":               sub.DisplayName,
				"state":              sub.State,
				"tenantId":           sub.TenantID,
				"homeTenantId":       sub.TenantID,
				"managementEndpoint": c.Server(),
				"user":               signedInUser(),
			}, nil)
		},
	})
	var role string
	var ttl time.Duration
	tok := &cobra.Command{
		Use:   "get-access-token",
		Short: "Get a bearer token for the mlfleet API (for scripts and other clients)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			t, err := c.MintToken(cmd.Context(), role, ttl)
			if err != nil {
				return err
			}
			return g.print(streams, map[string]any{
				"accessToken":  t.AccessToken,
				"expiresOn":    t.ExpiresOn.Local().Format("2006-01-02 15:04:05.000000"),
				"expires_on":   t.ExpiresOn.Unix(),
				"subscription": c.SubscriptionID(),
				"tenant":       c.TenantID(),
				"tokenType":    t.TokenType,
			}, nil)
		},
	}
	tok.Flags().StringVar(&role, "role", "", "Role of the token: Owner, Contributor or Reader (default: your own)")
	tok.Flags().DurationVar(&ttl, "expires-in", 0, "How long the token is valid (default: the server's --token-lifetime, 1h; never past your own token's expiry)")
	cmd.AddCommand(tok)
	return cmd
}

// signedInUser is who the CLI acts as, in `az account show`'s shape.
func signedInUser() map[string]any {
	if _, cfg, err := loadConfig(); err == nil && cfg.Login != nil && os.Getenv("MLFLEET_TOKEN") == "" {
		kind := "user"
		if cfg.Login.ServicePrincipal {
			kind = "servicePrincipal"
		}
		return map[string]any{"name": cfg.Login.Username, "type": kind}
	}
	return map[string]any{"name": "admin", "type": "user"}
}
