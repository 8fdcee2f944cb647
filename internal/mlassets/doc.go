// Package mlassets serves a workspace's versioned assets as Azure ML v2 has them: models
// (…/models/{name}/versions/{v}), code (…/codes/{name}/versions/{v}) and environments
// (…/environments/{name}/versions/{v}), with their containers (…/models/{name}).
//
// A version's content is fixed once created, as in Azure: a model's modelUri and a code's
// codeUri point at a blob of mlfleet's own blob store (mlfleet://blobs/<sha256>[/file]),
// which must have been uploaded to the version's workspace when the version is created (one
// uploaded only to other workspaces is refused like one that does not exist); an
// environment names its container image.
// Only description, tags and isArchived change on a later PUT. A container row is made with
// its first version and keeps the latest version for GET …/models/{name}. Deployments refer
// to versions by id; Service.Resolve reads one back for them.
package mlassets
