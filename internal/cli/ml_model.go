package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// assetTable is the table of models, code and environments, read from az ml's shape
// (azmlAssets). It serves versions and containers alike: a container's version column is
// its latest version; the Uri column is a version's path or image.
func assetTable(v any) any {
	return rows(v, func(m map[string]any) row {
		uri := m["path"]
		if uri == nil {
			uri = m["image"]
		}
		version := m["version"]
		if version == nil {
			version = m["latest_version"]
		}
		return row{{"Name", m["name"]}, {"Version", version}, {"Type", m["type"]}, {"Uri", uri}}
	})
}

// newAssetCommand is `mlfleet ml model|code|environment`: versioned assets of a workspace.
func newAssetCommand(streams Streams, g *globals, kind, use, short string) *cobra.Command {
	return parent(use, short, newAssetCreate(streams, g, kind), newAssetShow(streams, g, kind), newAssetList(streams, g, kind), newAssetDelete(streams, g, kind),
		newAssetArchive(streams, g, kind, true), newAssetArchive(streams, g, kind, false))
}

// assetNameRef names an asset of kind: -n's help says which kind.
func assetNameRef(kind string) computeRef {
	switch kind {
	case mlfleet.AssetModels:
		return computeRef{what: "model"}
	case mlfleet.AssetEnvironments:
		return computeRef{what: "environment"}
	default:
		return computeRef{what: "code asset"}
	}
}

// newAssetCreate is `ml model|code|environment create`: one new version. It sends
// If-None-Match: *, since a version's content never changes: registering a version that
// exists is a 409 that suggests the next version. A model or code path is uploaded to the
// server's blob store first and registered by its mlfleet://blobs URI. --file takes az
// ml's YAML of the asset; the flags win over its keys.
func newAssetCreate(streams Streams, g *globals, kind string) *cobra.Command {
	ref := assetNameRef(kind)
	var spec assetSpec
	var file, version, path, modelType, image, description string
	// -n may come from the file's name.
	fromFile := func() error {
		if err := readSpec(file, &spec); err != nil {
			return err
		}
		ref.name = firstNonEmpty(ref.name, spec.Name)
		return ref.resolve()
	}
	use := "create -n NAME --version V --path PATH | --file model.yml"
	switch kind {
	case mlfleet.AssetEnvironments:
		use = "create -n NAME --version V --image IMAGE | --file environment.yml"
	case mlfleet.AssetCodes:
		use = "create -n NAME --version V --path PATH | --file code.yml"
	}
	short := "Register a new version (a local file or directory is uploaded to the server's blob store)"
	cmd := command(use, short, resolveBy{ref.bind, fromFile}, func(cmd *cobra.Command) error {
		in, err := spec.version(kind)
		if err != nil {
			return err
		}
		version = firstNonEmpty(version, spec.versionString())
		if err := required(version, "--version"); err != nil {
			return err
		}
		if description != "" {
			in.Properties.Description = description
		}
		return g.callAs(streams, azmlAssets, assetTable, func(c *mlfleet.Client) (any, error) {
			switch kind {
			case mlfleet.AssetEnvironments:
				if in.Properties.Image = firstNonEmpty(image, in.Properties.Image); in.Properties.Image == "" {
					return nil, usagef("the following arguments are required: --image (or image: in --file)")
				}
			default:
				path := firstNonEmpty(path, spec.Path)
				if path == "" {
					return nil, usagef("the following arguments are required: --path/-p (or path: in --file)")
				}
				a := &assetsClient{c: c, ctx: cmd.Context(), group: ref.group, ws: ref.workspace}
				// A path of the file is relative to the file; a path given by the flag, to
				// the working directory.
				if path == spec.Path && file != "" {
					a.dir = filepath.Dir(file)
				}
				uri, _, err := a.upload("path", path)
				if err != nil {
					return nil, err
				}
				if kind == mlfleet.AssetModels {
					in.Properties.ModelURI = uri
					in.Properties.ModelType = firstNonEmpty(modelType, in.Properties.ModelType, "custom_model")
				} else {
					in.Properties.CodeURI = uri
				}
			}
			return c.CreateOrUpdateAssetVersion(cmd.Context(), ref.group, ref.workspace, kind, ref.name, version, in, true)
		})
	})
	cmd.Flags().StringVarP(&file, "file", "f", "", "YAML of the "+ref.what+", as az ml reads it")
	cmd.Flags().StringVar(&version, "version", "", "Version to register, e.g. 1")
	cmd.Flags().StringVar(&description, "description", "", "Description")
	switch kind {
	case mlfleet.AssetEnvironments:
		cmd.Flags().StringVar(&image, "image", "", "Container image of the environment")
	case mlfleet.AssetModels:
		cmd.Flags().StringVarP(&path, "path", "p", "", "Model file or directory to upload")
		cmd.Flags().StringVar(&modelType, "type", "", "Model type: custom_model (default), mlflow_model or triton_model")
	default:
		cmd.Flags().StringVarP(&path, "path", "p", "", "Code directory (or file) to upload")
	}
	return cmd
}

func newAssetShow(streams Streams, g *globals, kind string) *cobra.Command {
	ref := assetNameRef(kind)
	var version string
	cmd := callCommand(streams, g, "show -n NAME [--version V]", "Show a version (default: the latest)", &ref, azmlAssets, assetTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		// The container knows which version is the latest; the version's GET needs
		// its name.
		if version == "" {
			cont, err := c.GetAssetContainer(ctx, ref.group, ref.workspace, kind, ref.name)
			if err != nil {
				return nil, err
			}
			version = cont.Properties.LatestVersion
		}
		return c.GetAssetVersion(ctx, ref.group, ref.workspace, kind, ref.name, version)
	})
	cmd.Flags().StringVar(&version, "version", "", "Version (default: the latest)")
	return cmd
}

func newAssetList(streams Streams, g *globals, kind string) *cobra.Command {
	ref := assetNameRef(kind)
	var includeArchived, archivedOnly bool
	short := "List the versions of one asset, or every asset's latest version"
	cmd := command("list [-n NAME]", short, resolveBy{ref.bind, ref.resolveWorkspace}, func(cmd *cobra.Command) error {
		if includeArchived && archivedOnly {
			return usagef("--include-archived and --archived-only cannot be used together")
		}
		return g.callAs(streams, azmlAssets, assetTable, func(c *mlfleet.Client) (any, error) {
			if ref.name == "" {
				return c.ListAssetContainers(cmd.Context(), ref.group, ref.workspace, kind)
			}
			versions, err := c.ListAssetVersions(cmd.Context(), ref.group, ref.workspace, kind, ref.name)
			if err != nil || includeArchived {
				return versions, err
			}
			// As az ml lists them: archived versions only when asked for.
			return slices.DeleteFunc(versions, func(v *mlfleet.AssetVersion) bool { return v.Properties.IsArchived != archivedOnly }), nil
		})
	})
	cmd.Flags().BoolVar(&includeArchived, "include-archived", false, "List archived versions too")
	cmd.Flags().BoolVar(&archivedOnly, "archived-only", false, "List archived versions only")
	return cmd
}

func newAssetDelete(streams Streams, g *globals, kind string) *cobra.Command {
	ref := assetNameRef(kind)
	var version string
	var yes bool
	cmd := command("delete -n NAME --version V", "Delete a version (refused while a deployment uses it)", &ref, func(cmd *cobra.Command) error {
		if err := required(version, "--version"); err != nil {
			return err
		}
		if err := confirm(streams, yes, fmt.Sprintf("Are you sure you want to delete version %s of '%s'?", version, ref.name)); err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) {
			return nil, c.DeleteAssetVersion(cmd.Context(), ref.group, ref.workspace, kind, ref.name, version)
		})
	})
	cmd.Flags().StringVar(&version, "version", "", "Version to delete")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Do not prompt for confirmation")
	return cmd
}

// newAssetArchive is `ml model|code|environment archive` (archived true) or `restore`: it
// sets isArchived of one version, which az ml also does to a whole asset when no version is
// given; mlfleet archives versions only, so --version is required.
func newAssetArchive(streams Streams, g *globals, kind string, archived bool) *cobra.Command {
	ref := assetNameRef(kind)
	var version string
	use, short := "archive -n NAME --version V", "Archive a version: it stays usable by what uses it, and is marked archived"
	if !archived {
		use, short = "restore -n NAME --version V", "Restore an archived version"
	}
	cmd := command(use, short, &ref, func(cmd *cobra.Command) error {
		if err := required(version, "--version"); err != nil {
			return err
		}
		return g.callAs(streams, azmlAssets, assetTable, func(c *mlfleet.Client) (any, error) {
			v, err := c.GetAssetVersion(cmd.Context(), ref.group, ref.workspace, kind, ref.name, version)
			if err != nil {
				return nil, err
			}
			v.Properties.IsArchived = archived
			return c.CreateOrUpdateAssetVersion(cmd.Context(), ref.group, ref.workspace, kind, ref.name, version, v, false)
		})
	})
	cmd.Flags().StringVar(&version, "version", "", "Version (mlfleet archives versions, not whole assets)")
	return cmd
}
