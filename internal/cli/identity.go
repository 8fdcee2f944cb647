package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// newADCommand is `mlfleet ad`: users and service principals, as `az ad` manages them.
func newADCommand(streams Streams, g *globals) *cobra.Command {
	sp := parent("sp", "Manage service principals", newSPCreateForRBAC(streams, g), newPrincipalList(streams, g, mlfleet.PrincipalServicePrincipal),
		newPrincipalShow(streams, g), newPrincipalDelete(streams, g), newSPCredential(streams, g))
	user := parent("user", "Manage users", newUserCreate(streams, g), newPrincipalList(streams, g, mlfleet.PrincipalUser),
		newPrincipalShow(streams, g), newPrincipalDelete(streams, g))
	return parent("ad", "Manage users and service principals", sp, user)
}

// newSPCreateForRBAC is `mlfleet ad sp create-for-rbac`. It prints what az prints (appId,
// displayName, password, tenant): the three values `az login --service-principal` takes.
// The password exists only in this answer; the server keeps a hash of it. The principal
// and its role assignments are created in one request, which the server commits in one
// transaction: a refused assignment leaves no principal without its role behind. A
// service principal of that name already there is reused, as az reuses the application
// of that display name: it gets a new secret and the role at the scopes.
func newSPCreateForRBAC(streams Streams, g *globals) *cobra.Command {
	var name, role string
	var scopes []string
	cmd := &cobra.Command{
		Use:   "create-for-rbac -n NAME [--role ROLE --scopes SCOPE...]",
		Short: "Create a service principal, and give it a role at the scopes",
		Long: "Create a service principal and print its appId, password and tenant (the password is shown once).\n" +
			"With --role and --scopes it gets that role at each scope, in the same step.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required(name, "--name/-n"); err != nil {
				return err
			}
			// The server refuses this too; here it is a usage error before any request.
			if (role == "") != (len(scopes) == 0) {
				return usagef("--role and --scopes go together: give both, or neither")
			}
			return g.call(streams, nil, func(c *mlfleet.Client) (any, error) {
				p, err := existingSP(cmd.Context(), c, name)
				switch {
				case err != nil:
					return nil, err
				case p != nil:
					// As az: the principal of that name is reused, with a new secret and
					// the role, rather than a second principal of the same name.
					fmt.Fprintf(streams.Err, "Found an existing service principal '%s' (appId %s): its secret is reset.\n", p.DisplayName, p.AppID)
					if p, err = renewSP(cmd.Context(), c, p, role, scopes); err != nil {
						return nil, err
					}
				default:
					if p, err = c.CreatePrincipal(cmd.Context(), mlfleet.NewPrincipal{Type: mlfleet.PrincipalServicePrincipal, DisplayName: name, Role: role, Scopes: scopes}); err != nil {
						return nil, err
					}
				}
				return map[string]any{"appId": p.AppID, "displayName": p.DisplayName, "password": p.Password, "tenant": p.Tenant}, nil
			})
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "Display name of the service principal")
	cmd.Flags().StringVar(&role, "role", "", "Role to assign: Owner, Contributor or Reader")
	cmd.Flags().StringSliceVar(&scopes, "scopes", nil, "Space- or comma-separated scopes the role applies to, e.g. /subscriptions/{id}/resourceGroups/{name}")
	severalWords(cmd.Flags(), "scopes")
	return cmd
}

// existingSP returns the service principal named name that the caller may see, or nil;
// several of that name (made before create-for-rbac reused names) are an error naming
// their appIds.
func existingSP(ctx context.Context, c *mlfleet.Client, name string) (*mlfleet.Principal, error) {
	list, err := c.ListPrincipals(ctx)
	if err != nil {
		return nil, err
	}
	var found []*mlfleet.Principal
	for _, p := range list {
		if p.Type == mlfleet.PrincipalServicePrincipal && p.DisplayName == name {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, p := range found {
		ids[i] = p.AppID
	}
	return nil, usagef("%d service principals are named '%s' (appIds %s): delete the ones you do not use ('mlfleet ad sp delete --id APPID'), or choose another name", len(found), name, strings.Join(ids, ", "))
}

// renewSP gives the service principal p a new secret and the role at each scope it does
// not hold there yet, and returns it with its new secret.
func renewSP(ctx context.Context, c *mlfleet.Client, p *mlfleet.Principal, role string, scopes []string) (*mlfleet.Principal, error) {
	renewed, err := c.ResetCredential(ctx, p.AppID, "")
	if err != nil {
		return nil, err
	}
	for _, scope := range scopes {
		if _, err := c.AssignRole(ctx, p.AppID, role, scope); err != nil {
			var ae *mlfleet.Error
			if !errors.As(err, &ae) || ae.Code != "RoleAssignmentExists" {
				return nil, err
			}
		}
	}
	return renewed, nil
}

func newUserCreate(streams Streams, g *globals) *cobra.Command {
	var name, upn, password string
	cmd := leaf("create --display-name NAME --user-principal-name UPN --password PASSWORD", "Create a user who signs in with a name and password", func(cmd *cobra.Command) error {
		if err := requiredAll(name, "--display-name", upn, "--user-principal-name", password, "--password"); err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) {
			return c.CreatePrincipal(cmd.Context(), mlfleet.NewPrincipal{Type: mlfleet.PrincipalUser, DisplayName: name, UserPrincipalName: upn, Password: password})
		})
	})
	cmd.Flags().StringVar(&name, "display-name", "", "Display name")
	cmd.Flags().StringVar(&upn, "user-principal-name", "", "Name the user signs in with, e.g. alice@mlfleet.local")
	cmd.Flags().StringVar(&password, "password", "", "Password (at least 8 characters)")
	return cmd
}

// newPrincipalList is `ad sp list` or `ad user list` (typ): the server lists every
// principal the caller may see in one answer, and each command keeps its own kind.
func newPrincipalList(streams Streams, g *globals, typ string) *cobra.Command {
	return callCommand(streams, g, "list", "List the principals of this kind you may see", nil, nil, principalTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		all, err := c.ListPrincipals(ctx)
		out := []*mlfleet.Principal{}
		for _, p := range all {
			if p.Type == typ {
				out = append(out, p)
			}
		}
		return out, err
	})
}

// principalTable is az's table shape for principals.
func principalTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"DisplayName", m["displayName"]}, {"Id", m["id"]}, {"AppId", m["appId"]},
			{"UserPrincipalName", m["userPrincipalName"]}, {"CreatedDateTime", m["createdDateTime"]}}
	})
}

// idCommand is a command that takes a principal's --id (object id, appId or user
// principal name) and prints what run returns.
func idCommand(streams Streams, g *globals, use, short string, run func(ctx context.Context, c *mlfleet.Client, id string) (any, error)) *cobra.Command {
	var id string
	cmd := leaf(use+" --id ID", short, func(cmd *cobra.Command) error {
		if err := required(id, "--id"); err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) { return run(cmd.Context(), c, id) })
	})
	cmd.Flags().StringVar(&id, "id", "", "Object id, appId or user principal name")
	return cmd
}

func newPrincipalShow(streams Streams, g *globals) *cobra.Command {
	return idCommand(streams, g, "show", "Show a principal by object id, appId or user principal name",
		func(ctx context.Context, c *mlfleet.Client, id string) (any, error) { return c.GetPrincipal(ctx, id) })
}

func newPrincipalDelete(streams Streams, g *globals) *cobra.Command {
	return idCommand(streams, g, "delete", "Delete a principal, its role assignments and its tokens",
		func(ctx context.Context, c *mlfleet.Client, id string) (any, error) {
			return nil, c.DeletePrincipal(ctx, id)
		})
}

// newSPCredential is `mlfleet ad sp credential reset`: a new secret, printed once as
// create-for-rbac prints it; the old secret and every token issued with it stop working.
func newSPCredential(streams Streams, g *globals) *cobra.Command {
	return parent("credential", "Manage a service principal's secret", idCommand(streams, g, "reset", "Give a service principal a new secret; the old one and its tokens stop working at once",
		func(ctx context.Context, c *mlfleet.Client, id string) (any, error) {
			p, err := c.ResetCredential(ctx, id, "")
			if err != nil {
				return nil, err
			}
			return map[string]any{"appId": p.AppID, "password": p.Password, "tenant": p.Tenant}, nil
		}))
}

// newRoleCommand is `mlfleet role`: role assignments, as `az role` manages them.
func newRoleCommand(streams Streams, g *globals) *cobra.Command {
	return parent("role", "Manage role assignments",
		parent("assignment", "Grant, list and remove roles at a scope", newRoleAssignmentCreate(streams, g), newRoleAssignmentList(streams, g), newRoleAssignmentDelete(streams, g)))
}

// newRoleAssignmentCreate is `mlfleet role assignment create`, printed in az's shape
// (roleAssignmentView) rather than the ARM resource's, so scripts written for az read it.
func newRoleAssignmentCreate(streams Streams, g *globals) *cobra.Command {
	var assignee, role, scope string
	cmd := leaf("create --assignee ID --role ROLE --scope SCOPE", "Grant a role at a scope (and everything under it)", func(cmd *cobra.Command) error {
		if err := requiredAll(assignee, "--assignee", role, "--role", scope, "--scope"); err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) {
			ra, err := c.AssignRole(cmd.Context(), assignee, role, scope)
			if err != nil {
				return nil, err
			}
			return roleAssignmentView(ra, principalNames(cmd.Context(), c)), nil
		})
	})
	cmd.Flags().StringVar(&assignee, "assignee", "", "Object id, appId or user principal name")
	cmd.Flags().StringVar(&role, "role", "", "Owner, Contributor or Reader")
	cmd.Flags().StringVar(&scope, "scope", "", "Scope: /subscriptions/{id}, a resource group's or a resource's id")
	return cmd
}

// newRoleAssignmentList is `mlfleet role assignment list`, printed in az's shape like
// create. The scope defaults to the subscription, as az's does. --all is az's: every
// assignment of the subscription, at whatever scope, which excludes a --scope. The
// server answers a list at a scope with the assignments at, above and below it, so --all
// reads the subscription's list.
func newRoleAssignmentList(streams Streams, g *globals) *cobra.Command {
	var assignee, scope string
	var all bool
	cmd := leaf("list [--assignee ID] [--scope SCOPE | --all]", "List the role assignments at, above and below a scope (default: the subscription) that you may read", func(cmd *cobra.Command) error {
		if all && scope != "" {
			return usagef("--scope is not required when --all is used")
		}
		return g.call(streams, roleAssignmentTable, func(c *mlfleet.Client) (any, error) {
			if scope == "" {
				scope = "/subscriptions/" + c.SubscriptionID()
			}
			list, err := c.ListRoleAssignments(cmd.Context(), scope, assignee)
			if err != nil {
				return nil, err
			}
			names := principalNames(cmd.Context(), c)
			out := []map[string]any{}
			for _, ra := range list {
				out = append(out, roleAssignmentView(ra, names))
			}
			return out, nil
		})
	})
	cmd.Flags().StringVar(&assignee, "assignee", "", "Only this principal's (object id, appId or user principal name)")
	cmd.Flags().StringVar(&scope, "scope", "", "Scope (default: the subscription)")
	cmd.Flags().BoolVar(&all, "all", false, "Show all assignments under the subscription: at the subscription, its resource groups and resources, and those inherited from above")
	return cmd
}

// newRoleAssignmentDelete is `mlfleet role assignment delete`: by id, or every assignment
// of --assignee (of --role, when given) made exactly at --scope. Assignments the list
// returns from above or below the scope are not the ones the user named, and stay.
func newRoleAssignmentDelete(streams Streams, g *globals) *cobra.Command {
	var ids []string
	var assignee, role, scope string
	cmd := leaf("delete (--ids ID... | --assignee ID [--role ROLE] [--scope SCOPE])", "Remove role assignments", func(cmd *cobra.Command) error {
		if len(ids) == 0 && assignee == "" {
			return usagef("give --ids, or --assignee (with --role and --scope to narrow it)")
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			if scope == "" {
				scope = "/subscriptions/" + c.SubscriptionID()
			}
			list, err := c.ListRoleAssignments(cmd.Context(), scope, assignee)
			if err != nil {
				return err
			}
			for _, ra := range list {
				if (role == "" || strings.EqualFold(ra.RoleName(), role)) && strings.EqualFold(strings.TrimRight(ra.Properties.Scope, "/"), strings.TrimRight(scope, "/")) {
					ids = append(ids, ra.ID)
				}
			}
			// Deleting nothing is an error: the user asked for an assignment that is not there.
			if len(ids) == 0 {
				return fmt.Errorf("no role assignment of %s matches at %s", assignee, scope)
			}
		}
		for _, id := range ids {
			if err := c.DeleteRoleAssignment(cmd.Context(), id); err != nil {
				return err
			}
		}
		return nil
	})
	cmd.Flags().StringSliceVar(&ids, "ids", nil, "Space- or comma-separated ids of the role assignments")
	severalWords(cmd.Flags(), "ids")
	cmd.Flags().StringVar(&assignee, "assignee", "", "Object id, appId or user principal name")
	cmd.Flags().StringVar(&role, "role", "", "Only this role")
	cmd.Flags().StringVar(&scope, "scope", "", "Only at this scope (default: the subscription)")
	return cmd
}

// roleAssignmentView is a role assignment as `az role assignment list` prints it.
// names maps principal ids to what they sign in with (principalNames), for az's
// principalName; an id it lacks gets null.
func roleAssignmentView(ra *mlfleet.RoleAssignment, names map[string]string) map[string]any {
	var name any
	if n, ok := names[ra.Properties.PrincipalID]; ok {
		name = n
	}
	return map[string]any{
		"id": ra.ID, "name": ra.Name, "type": ra.Type,
		"principalId": ra.Properties.PrincipalID, "principalName": name, "principalType": ra.Properties.PrincipalType,
		"roleDefinitionId": ra.Properties.RoleDefinitionID, "roleDefinitionName": ra.RoleName(),
		"scope": ra.Properties.Scope, "createdOn": ra.Properties.CreatedOn, "createdBy": ra.Properties.CreatedBy,
	}
}

// principalNames maps the ids of the principals the caller may list to what each signs in
// with (a user's principal name, a service principal's appId), as az fills principalName.
// It is best effort: a caller who may not list principals gets no names, not an error.
func principalNames(ctx context.Context, c *mlfleet.Client) map[string]string {
	list, err := c.ListPrincipals(ctx)
	if err != nil {
		return nil
	}
	names := make(map[string]string, len(list))
	for _, p := range list {
		names[p.ID] = p.Login()
	}
	return names
}

// roleAssignmentTable is az's table shape for role assignments.
func roleAssignmentTable(v any) any {
	return rows(v, func(m map[string]any) row {
		principal := m["principalName"]
		if principal == nil {
			principal = m["principalId"]
		}
		return row{{"Principal", principal}, {"Role", m["roleDefinitionName"]}, {"Scope", m["scope"]}}
	})
}

// newLoginCommand is `mlfleet login`: sign in as a service principal or a user, as `az
// login` does; the CLI then acts as that principal until `mlfleet logout`.
func newLoginCommand(streams Streams, g *globals) *cobra.Command {
	var sp bool
	var username, password, tenant string
	cmd := leaf("login [--service-principal] -u NAME -p SECRET [--tenant TENANT]", "Sign in as a service principal or a user", func(cmd *cobra.Command) error {
		if err := requiredAll(username, "--username/-u", password, "--password/-p"); err != nil {
			return err
		}
		home, cfg, err := loadConfig()
		if err != nil {
			return err
		}
		// The server has one tenant; --tenant is accepted for az's grammar and must name it.
		if tenant != "" && cfg.Tenant != "" && !strings.EqualFold(tenant, cfg.Tenant) {
			return fmt.Errorf("tenant '%s' not found: this server's tenant is %s", tenant, cfg.Tenant)
		}
		hc, err := mlfleet.NewHTTPClient(cfg.CAFile)
		if err != nil {
			return err
		}
		token, expires, err := mlfleet.SignIn(cmd.Context(), hc, cfg.Server, sp, username, password)
		if err != nil {
			return err
		}
		// A service principal's secret is kept (in the 0600 configuration, as az keeps it)
		// so that renewLogin can get a new token when this one expires; a user's password
		// is never kept, and a user signs in again.
		cfg.Login = &clientconfig.Login{ServicePrincipal: sp, Username: username, AccessToken: token, ExpiresOn: expires}
		if sp {
			cfg.Login.Secret = password
		}
		if err := clientconfig.Save(home, cfg); err != nil {
			return err
		}
		// What az login prints: the subscriptions signed in to, here the one the CLI uses.
		return g.print(streams, []map[string]any{{
			"cloudName": "mlfleet", "id": cfg.Subscription, "isDefault": true, "state": "Enabled",
			"tenantId": cfg.Tenant, "user": userView(username, sp),
		}}, nil)
	})
	cmd.Flags().BoolVar(&sp, "service-principal", false, "Sign in as a service principal (-u is its appId)")
	cmd.Flags().StringVarP(&username, "username", "u", "", "User principal name, or a service principal's appId")
	cmd.Flags().StringVarP(&password, "password", "p", "", "Password, or a service principal's secret")
	cmd.Flags().StringVarP(&tenant, "tenant", "t", "", "Tenant id (checked against the server's)")
	return cmd
}

// newLogoutCommand is `mlfleet logout`. It only forgets the sign-in: the token stays
// valid until it expires, and the CLI falls back to the admin token of the home.
func newLogoutCommand(streams Streams) *cobra.Command {
	return leaf("logout", "Forget the signed-in principal: the CLI acts as the admin of the local server again", func(cmd *cobra.Command) error {
		home, cfg, err := loadConfig()
		if err != nil {
			return err
		}
		cfg.Login = nil
		return clientconfig.Save(home, cfg)
	})
}
