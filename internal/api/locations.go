package api

import (
	"net/http"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// locationBody is one region as ARM lists it.
type locationBody struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	DisplayName string `json:"displayName"`
}

// locationRoutes serves the regions mlfleet accepts (GET /subscriptions/{sub}/locations), so
// that clients can offer them instead of a free-text field.
func (s *Server) locationRoutes() {
	s.router.handle(http.MethodGet, subPath+"/locations", s.listLocations)
}

// listLocations lists every accepted region. mlfleet knows no display names ("West US"),
// so displayName is the name.
func (s *Server) listLocations(w http.ResponseWriter, r *http.Request, p params) {
	if _, err := s.cfg.Resources.GetSubscription(r.Context(), p["sub"]); err != nil {
		writeError(w, r, err)
		return
	}
	var out []locationBody
	for _, name := range arm.Regions() {
		out = append(out, locationBody{ID: arm.SubscriptionPath(p["sub"]) + "/locations/" + name, Name: name, Type: "Region", DisplayName: name})
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}
