// Package api serves mlfleet's ARM-shaped REST API over HTTP: routing by ARM path
// (case-insensitive literal segments), the api-version rule, bearer-token auth, request ids,
// the long-running-operation headers and status endpoints, and the one function (writeError)
// that turns domain errors into ARM error bodies.
package api
