// Package api serves mlfleet's ARM-shaped REST API over HTTP: routing by ARM path
// (case-insensitive literal segments), the api-version rule, bearer-token auth, request ids,
// the long-running-operation headers and status endpoints, and the one function (writeError)
// that turns domain errors into ARM error bodies.
//
// A resource handler states only its call: reply.go holds the shape they share (decode and
// preconditions for a PUT, 201/200 with the ETag and Azure-AsyncOperation, 202/204 for a
// DELETE, one page of a list with its nextLink), and servedIf answers 501 for the routes of
// a service the server runs without (online endpoints, assets, blobs).
package api
