package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
)

// defaultKeys are the keys `configure --defaults` accepts: the flags -g, -w and -l fall
// back to them (withDefault). Other keys are refused rather than stored: nothing would
// read them, and a misspelt key would look set.
var defaultKeys = []string{"group", "workspace", "location"}

// newConfigureCommand is `mlfleet configure`, the defaults of S22 (az configure
// --defaults). They live in the client configuration of the home directory, next to the
// server's address, so they apply to every later command of that home.
func newConfigureCommand(streams Streams, g *globals) *cobra.Command {
	var set []string
	var list bool
	cmd := &cobra.Command{
		Use:   "configure --defaults KEY=VALUE [KEY=VALUE ...]",
		Short: "Set defaults (group, workspace, location) used when -g/-w/-l are omitted",
		Example: `  mlfleet configure --defaults group=myresourcegroup workspace=myworkspace
  mlfleet configure --defaults workspace=      (clears the default workspace)
  mlfleet configure --list-defaults`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			home, cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if cfg.Defaults == nil {
				cfg.Defaults = map[string]string{}
			}
			if len(set) == 0 && !list {
				return usagef("give --defaults KEY=VALUE (keys: %s) or --list-defaults", strings.Join(defaultKeys, ", "))
			}
			// One --defaults value may also hold several space-separated pairs when quoted
			// ("group=rg workspace=ws"). Nothing is saved until every pair has been checked.
			for _, kv := range set {
				for _, item := range strings.Fields(kv) {
					k, v, ok := strings.Cut(item, "=")
					if !ok || !slices.Contains(defaultKeys, k) {
						return usagef("--defaults takes KEY=VALUE with KEY one of %s, not %q", strings.Join(defaultKeys, ", "), item)
					}
					// An empty value clears the default, as in az.
					if v == "" {
						delete(cfg.Defaults, k)
					} else {
						cfg.Defaults[k] = v
					}
				}
			}
			if len(set) > 0 {
				if err := clientconfig.Save(home, cfg); err != nil {
					return err
				}
			}
			if list {
				type item struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				}
				// Sorted, so the listing does not change order between runs.
				keys := make([]string, 0, len(cfg.Defaults))
				for k := range cfg.Defaults {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				out := []item{}
				for _, k := range keys {
					out = append(out, item{Name: k, Value: cfg.Defaults[k]})
				}
				return g.print(streams, out, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&set, "defaults", nil, fmt.Sprintf("Space-separated KEY=VALUE defaults; keys: %s; an empty value clears", strings.Join(defaultKeys, ", ")))
	severalWords(cmd.Flags(), "defaults")
	cmd.Flags().BoolVarP(&list, "list-defaults", "l", false, "List the defaults")
	return cmd
}
