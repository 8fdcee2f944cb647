package armapi

// List is one page of an ARM list (GET on a collection): the items and, when more follow,
// the absolute URL of the next page. NextLink is omitted on the last page; a client follows
// it until it is empty.
//
// Value is encoded as null when nil: a server that means "no items" sets it to an empty
// slice, which ARM clients expect.
type List[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}
