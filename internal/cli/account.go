package cli

import (
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
				"user":               map[string]any{"name": "admin", "type": "user"},
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
	tok.Flags().DurationVar(&ttl, "expires-in", time.Hour, "How long the token is valid")
	cmd.AddCommand(tok)
	return cmd
}
