package cli

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newAccountCommand(streams Streams, g *globals) *cobra.Command {
	return parent("account", "Show the subscription and get access tokens", newAccountShow(streams, g), newAccountList(streams, g), newAccountGetAccessToken(streams, g))
}

// newAccountShow is `mlfleet account show`: the subscription of the CLI's configuration,
// in az's account shape; the environment is "mlfleet" and the management endpoint the
// server the CLI talks to.
func newAccountShow(streams Streams, g *globals) *cobra.Command {
	return callCommand(streams, g, "show", "Show the subscription the CLI uses", nil, nil, nil, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		sub, err := c.Subscription(ctx)
		if err != nil {
			return nil, err
		}
		a := account(sub, true)
		a["environmentName"], a["managementEndpoint"] = "mlfleet", c.Server()
		return a, nil
	})
}

// accountTable is az's table of account list, with az's column names (SubscriptionId
// for id).
func accountTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Name", m["name"]}, {"CloudName", m["cloudName"]}, {"SubscriptionId", m["id"]}, {"TenantId", m["tenantId"]}, {"State", m["state"]}, {"IsDefault", m["isDefault"]}}
	})
}

// newAccountList is `mlfleet account list`: the subscriptions the caller may read, in az's
// account shape. The CLI's own subscription is the one marked default, since that is the
// one its commands use.
func newAccountList(streams Streams, g *globals) *cobra.Command {
	return callCommand(streams, g, "list", "List the subscriptions you may use; the CLI's own is the default", nil, nil, accountTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		subs, err := c.ListSubscriptions(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(subs))
		for _, sub := range subs {
			a := account(sub, strings.EqualFold(sub.SubscriptionID, c.SubscriptionID()))
			a["cloudName"] = "mlfleet"
			out = append(out, a)
		}
		return out, nil
	})
}

// account is a subscription in the shape of az's account commands.
func account(sub *mlfleet.Subscription, isDefault bool) map[string]any {
	return map[string]any{
		"id":           sub.SubscriptionID,
		"isDefault":    isDefault,
		"name":         sub.DisplayName,
		"state":        sub.State,
		"tenantId":     sub.TenantID,
		"homeTenantId": sub.TenantID,
		"user":         signedInUser(),
	}
}

// newAccountGetAccessToken is `mlfleet account get-access-token`: a token minted for the
// caller (never more than the caller's role, never past the caller's own token), printed
// with both of az's expiry spellings: expiresOn, local time, and expires_on, Unix seconds.
func newAccountGetAccessToken(streams Streams, g *globals) *cobra.Command {
	var role string
	var ttl time.Duration
	cmd := leaf("get-access-token", "Get a bearer token for the mlfleet API (for scripts and other clients)", func(cmd *cobra.Command) error {
		// 0 means "the default" to the SDK; given on the command line it is a mistake,
		// refused as the server refuses a negative lifetime.
		if cmd.Flags().Changed("expires-in") && ttl <= 0 {
			return usagef("--expires-in must be a positive duration such as 30m or 2h, not %s; leave it out for the server's default lifetime", ttl)
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) {
			t, err := c.MintToken(cmd.Context(), role, ttl)
			if err != nil {
				return nil, err
			}
			return map[string]any{
				"accessToken":  t.AccessToken,
				"expiresOn":    t.ExpiresOn.Local().Format("2006-01-02 15:04:05.000000"),
				"expires_on":   t.ExpiresOn.Unix(),
				"subscription": c.SubscriptionID(),
				"tenant":       c.TenantID(),
				"tokenType":    t.TokenType,
			}, nil
		})
	})
	cmd.Flags().StringVar(&role, "role", "", "Role of the token: Owner, Contributor or Reader (default: your own)")
	cmd.Flags().DurationVar(&ttl, "expires-in", 0, "How long the token is valid (default: the server's --token-lifetime, 1h; never past your own token's expiry)")
	return cmd
}

// signedInUser is who the CLI acts as, in `az account show`'s shape: the principal of
// `mlfleet login`, else the admin whose token `serve` left in the home. A token from
// MLFLEET_TOKEN is not inspected, so it is reported as the admin's.
func signedInUser() map[string]any {
	if _, cfg, err := loadConfig(); err == nil && cfg.Login != nil && os.Getenv("MLFLEET_TOKEN") == "" {
		return userView(cfg.Login.Username, cfg.Login.ServicePrincipal)
	}
	return userView("admin", false)
}

// userView is a principal the CLI signs in as, in az's shape: its name and type.
func userView(name string, servicePrincipal bool) map[string]any {
	kind := "user"
	if servicePrincipal {
		kind = "servicePrincipal"
	}
	return map[string]any{"name": name, "type": kind}
}
