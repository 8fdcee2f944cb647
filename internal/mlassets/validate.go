package mlassets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Problems collects every failed check of a request, to report them together.
type Problems []*arm.Error

// Add records a failed check.
func (p *Problems) Add(code, target, format string, args ...any) {
	*p = append(*p, arm.BadRequest(code, format, args...).WithTarget(target))
}

// Err is nil when nothing failed, else one 400 UserError with a detail per failure.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	msgs := make([]string, len(p))
	for i, e := range p {
		msgs[i] = e.Message
	}
	msg := msgs[0]
	if len(p) > 1 {
		msg = fmt.Sprintf("%s: %d checks failed. %s", what, len(p), strings.Join(msgs, " "))
	}
	e := arm.BadRequest(arm.CodeUserError, "%s", msg)
	if len(p) == 1 {
		e.Target = p[0].Target
	}
	e.Details = p
	return e
}

var (
	assetName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$`)
	assetVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,29}$`)
	modelTypes   = []string{ModelTypeCustom, ModelTypeMLflow, ModelTypeTriton}
	// imageRef is a container image reference: [registry/]path[:tag][@sha256:digest].
	imageRef = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$`)
)

// ValidateName checks an asset name; ValidateVersion a version string.
func ValidateName(k Kind, name string) *arm.Error {
	if !assetName.MatchString(name) {
		return arm.BadRequest(arm.CodeInvalidResourceName, "%s name '%s' is invalid: use 1 to 255 letters, digits, '-', '_' or '.', starting with a letter or digit.", k.singular(), name).WithTarget("name")
	}
	return nil
}

// ValidateVersion checks a version string.
func ValidateVersion(k Kind, version string) *arm.Error {
	if !assetVersion.MatchString(version) {
		return arm.BadRequest(arm.CodeInvalidResourceName, "%s version '%s' is invalid: use 1 to 30 letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. 1).", k.singular(), version).WithTarget("version")
	}
	return nil
}

// uploadCheck is how validate checks that the blobs a version's URIs name were uploaded to
// its workspace.
type uploadCheck struct {
	// workspace is the workspace's name, for messages.
	workspace string
	// blobs are the workspace's blobs; nil when the server keeps no blob store.
	blobs blobs.Store
}

// validate checks a version's properties for kind k and fills in defaults; with uploads
// (nil skips it) it checks that the URIs' blobs were uploaded to the version's workspace.
// Every problem is reported.
func validate(ctx context.Context, k Kind, name, version string, p *armapi.AssetVersionProperties, uploads *uploadCheck) error {
	var errs Problems
	if e := ValidateName(k, name); e != nil {
		errs = append(errs, e)
	}
	if e := ValidateVersion(k, version); e != nil {
		errs = append(errs, e)
	}
	notFor := func(field, value string) {
		if value != "" {
			errs.Add(arm.CodeUserError, "properties."+field, "properties.%s does not apply to %s versions; remove it.", field, strings.ToLower(k.singular()))
		}
	}
	checkURI := func(field, uri string) {
		if uri == "" {
			errs.Add(arm.CodeUserError, "properties."+field, "properties.%s is required: the mlfleet://blobs/... uri of the uploaded content (mlfleet ml %s create --path uploads it).", field, strings.ToLower(k.singular()))
			return
		}
		digest, _, err := blobs.ParseURI(uri)
		if err != nil {
			errs.Add(arm.CodeUserError, "properties."+field, "properties.%s: %v.", field, err)
			return
		}
		switch {
		case uploads == nil:
			return
		case uploads.blobs == nil:
			errs.Add(arm.CodeUserError, "properties."+field, "properties.%s: this server keeps no blob store.", field)
			return
		}
		// A blob uploaded only to other workspaces gets the answer of one no one uploaded,
		// so that this says nothing of what the server holds elsewhere.
		ws := uploads.workspace
		if _, err := uploads.blobs.Stat(ctx, digest); errors.Is(err, blobs.ErrNotFound) {
			errs.Add(arm.CodeUserError, "properties."+field, "properties.%s points at blob %s, which was not uploaded to workspace '%s'; upload the content first (PUT …/workspaces/%s/blobs).", field, digest, ws, ws)
		} else if err != nil {
			errs = append(errs, arm.Errorf(500, arm.CodeInternalServerError, "check blob %s: %v", digest, err))
		}
	}
	switch k {
	case Models:
		if p.ModelType == "" {
			p.ModelType = ModelTypeCustom
		} else if !slices.Contains(modelTypes, p.ModelType) {
			errs.Add(arm.CodeUserError, "properties.modelType", "properties.modelType '%s' is not one of %s.", p.ModelType, strings.Join(modelTypes, ", "))
		}
		checkURI("modelUri", p.ModelURI)
		notFor("codeUri", p.CodeURI)
		notFor("image", p.Image)
	case Codes:
		checkURI("codeUri", p.CodeURI)
		notFor("modelUri", p.ModelURI)
		notFor("modelType", p.ModelType)
		notFor("image", p.Image)
	case Environments:
		// Like the CLI's conda_file: a conda file would have to be built into the image, and
		// an environment accepted with it would run without its packages.
		if p.CondaFile != "" {
			errs.Add(arm.CodeUserError, "properties.condaFile", "A conda file (properties.condaFile) is not supported by mlfleet: it does not build environments, so the packages would not be installed. Set properties.image to an image that has them, or on embedded clusters run the server with a Python that has them ('mlfleet serve --python').")
		}
		switch {
		case p.Build != nil:
			errs.Add(arm.CodeUserError, "properties.build", "Building images (properties.build) is not supported by mlfleet; set properties.image to an existing image.")
		case p.Image == "":
			errs.Add(arm.CodeUserError, "properties.image", "properties.image is required: the container image of the environment, e.g. mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest.")
		case !imageRef.MatchString(p.Image):
			errs.Add(arm.CodeUserError, "properties.image", "properties.image '%s' is not a valid image reference ([registry/]repository[:tag][@sha256:digest], lowercase).", p.Image)
		}
		if p.EnvironmentType == "" {
			p.EnvironmentType = "UserCreated"
		}
		if p.OSType == "" {
			p.OSType = "Linux"
		} else if p.OSType != "Linux" {
			errs.Add(arm.CodeUserError, "properties.osType", "properties.osType '%s' is not supported: mlfleet runs Linux images only.", p.OSType)
		}
		notFor("modelUri", p.ModelURI)
		notFor("codeUri", p.CodeURI)
		notFor("modelType", p.ModelType)
	}
	for key := range p.Tags {
		if key == "" || len(key) > 512 {
			errs.Add(arm.CodeUserError, "properties.tags", "Tag names must have 1 to 512 characters.")
			break
		}
	}
	return errs.Err(fmt.Sprintf("%s version %s:%s", k.singular(), name, version))
}
