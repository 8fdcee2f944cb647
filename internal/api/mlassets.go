package api

import (
	"encoding/json"
	"net/http"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// assetRoutes serves models, codes and environments with their versions.
func (s *Server) assetRoutes() {
	handle := func(method, pattern string, h handlerFunc) {
		s.router.handle(method, pattern, servedIf(s.cfg.Assets != nil, "models, codes and environments", h))
	}
	for _, k := range mlassets.Kinds {
		base := wsPath + "/" + string(k)
		// The kind's list shows its containers, a container's list its versions: both
		// are listAssets, which tells them apart by whether {name} is set.
		handle(http.MethodGet, base, s.listAssets(k))
		handle(http.MethodGet, base+"/{name}", s.getAssetContainer(k))
		handle(http.MethodGet, base+"/{name}/versions", s.listAssets(k))
		handle(http.MethodPut, base+"/{name}/versions/{version}", s.putAssetVersion(k))
		handle(http.MethodGet, base+"/{name}/versions/{version}", s.getAssetVersion(k))
		handle(http.MethodDelete, base+"/{name}/versions/{version}", s.deleteAssetVersion(k))
	}
}

func (s *Server) listAssets(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		replyPage(s, w, r, func(pg resources.Page) ([]json.RawMessage, string, error) {
			return s.cfg.Assets.List(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], pg)
		})
	}
}

func (s *Server) getAssetContainer(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		c, err := s.cfg.Assets.GetContainer(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"])
		reply(w, r, http.StatusOK, c, err)
	}
}

// putAssetVersion writes a version at once: no operation runs, so there is no namespace
// for Azure-AsyncOperation and none is given.
func (s *Server) putAssetVersion(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		servePut(s, w, r, "", func(in armapi.AssetVersion, pre arm.Preconditions) (written, error) {
			v, created, err := s.cfg.Assets.Put(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], p["version"], in, mlassets.Options{Preconditions: pre})
			return written{Value: v, Created: created}, err
		})
	}
}

func (s *Server) getAssetVersion(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		v, etag, err := s.cfg.Assets.Get(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], p["version"])
		replyTagged(w, r, v, etag, err)
	}
}

func (s *Server) deleteAssetVersion(k mlassets.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		pre, err := preconditions(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		existed, err := s.cfg.Assets.Delete(r.Context(), k, p["sub"], p["rg"], p["ws"], p["name"], p["version"], pre)
		replyRemoved(w, r, existed, err)
	}
}
