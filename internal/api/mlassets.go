package api

import (
	"net/http"

	"github.com/mlfleet/mlfleet/internal/mlassets"
)

// assetRoutes serves models, codes and environments with their versions.
func (s *Server) assetRoutes() {
	rt := &s.router
	for _, k := range mlassets.Kinds {
		base := wsPath + "/" + string(k)
		rt.handle(http.MethodGet, base, s.listAssets(k))
		rt.handle(http.MethodGet, base+"/{name}", s.getAssetContainer(k))
		rt.handle(http.MethodGet, base+"/{name}/versions", s.listAssets(k))
		rt.handle(http.MethodPut, base+"/{name}/versions/{version}", s.putAssetVersion(k))
		rt.handle(http.MethodGet, base+"/{name}/versions/{version}", s.getAssetVersion(k))
		rt.handle(http.MethodDelete, base+"/{name}/versions/{version}", s.deleteAssetVersion(k))
	}
}

func (s *Server) assetsConfigured(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Assets == nil {
		writeError(w, r, notServed("models, codes and environments"))
		return false
	}
	return true
}

func (s *Server) listAssets(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		if !s.assetsConfigured(w, r) {
			return
		}
		pg, err := s.page(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		list, more, err := s.cfg.Assets.List(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], pg)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writePage(w, r, list, pg, len(list), more)
	}
}

func (s *Server) getAssetContainer(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		if !s.assetsConfigured(w, r) {
			return
		}
		c, err := s.cfg.Assets.GetContainer(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"])
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *Server) putAssetVersion(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		if !s.assetsConfigured(w, r) {
			return
		}
		pre, err := preconditions(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var in mlassets.Version
		if err := decodeBody(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		v, created, err := s.cfg.Assets.Put(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], p["version"], in, mlassets.Options{Preconditions: pre})
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, createdStatus(created), v)
	}
}

func (s *Server) getAssetVersion(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		if !s.assetsConfigured(w, r) {
			return
		}
		v, etag, err := s.cfg.Assets.Get(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], p["version"])
		if err != nil {
			writeError(w, r, err)
			return
		}
		setETag(w, etag)
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) deleteAssetVersion(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		if !s.assetsConfigured(w, r) {
			return
		}
		pre, err := preconditions(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		existed, err := s.cfg.Assets.Delete(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], p["version"], pre)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !existed {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}
