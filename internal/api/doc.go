// Package api serves mlfleet's ARM-shaped REST API over HTTP: routing by ARM path
// (case-insensitive literal segments), the api-version rule, bearer-token auth, request ids,
// the long-running-operation headers and status endpoints, and the one function (writeError)
// that turns domain errors into ARM error bodies.
//
// A resource handler states only its call: reply.go holds the shape they share (decode and
// preconditions for a PUT, 201/200 with the ETag and Azure-AsyncOperation, 202/204 for a
// DELETE, one page of a list with its nextLink), and servedIf answers 501 for the routes of
// a service the server runs without (online endpoints, assets, blobs).
//
// The parts: server.go is the way in (serveAPI's order of checks, body decoding, paging);
// router.go and routes.go the route table; authorize.go derives a request's ARM action and
// scope; errors.go maps errors; adfs.go, identity.go and roleassignments.go are the
// identity endpoints; limits.go and activity.go the request limits and the activity log;
// the other files each serve one provider's routes.
//
// What it must not do: hold domain rules. What makes a compute, cluster, endpoint or name
// valid, which state a resource may change from, and what a write does to other resources
// belong to the services it calls (compute, containerservice, endpoints, resources, …);
// a handler reads the request, calls one service method and answers its result. The store
// is read directly only where no service owns the rows (operation status, replicas, the
// scope of a role assignment), and never written. Nothing here matches an error's text:
// toARM decides the status from errors.Is/As.
package api
