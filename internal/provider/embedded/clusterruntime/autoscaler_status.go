package clusterruntime

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/kube"
)

// writeStatus keeps kube-system/cluster-autoscaler-status up to date, in the spirit of
// cluster-autoscaler's status text.
func (a *autoscaler) writeStatus(ctx context.Context, cfg AutoscalerConfig, st *state, up string, candidates int) error {
	var b strings.Builder
	ready := 0
	for _, n := range st.nodes {
		if kube.NodeReady(n) {
			ready++
		}
	}
	down := "NoCandidates"
	if candidates > 0 {
		down = fmt.Sprintf("CandidatesPresent (candidates=%d)", candidates)
	}
	fmt.Fprintf(&b, "Cluster-wide:\n  Health:    Healthy (ready=%d registered=%d)\n  ScaleUp:   %s\n  ScaleDown: %s\n\nNodeGroups:\n", ready, len(st.nodes), up, down)
	for _, p := range st.pools {
		fmt.Fprintf(&b, "  Name:   %s\n  Health: Healthy (ready=%d registered=%d cloudProviderTarget=%d (minSize=%d, maxSize=%d))\n",
			p.pool.Name, p.pool.Count, p.pool.Count, p.pool.Count, p.Min, p.Max)
	}
	body := b.String()
	a.mu.Lock()
	same := body == a.status
	a.mu.Unlock()
	if same {
		return nil
	}
	text := fmt.Sprintf("Cluster-autoscaler status at %s:\n%s", a.clock.Now().UTC().Format(time.RFC3339), body)
	cms := a.client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
	cm, err := cms.Get(ctx, AutoscalerStatusConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cm = &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: AutoscalerStatusConfigMap, Namespace: metav1.NamespaceSystem},
			Data: map[string]string{"status": text}}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	case err == nil:
		cm.Data = map[string]string{"status": text}
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", AutoscalerStatusConfigMap, err)
	}
	a.mu.Lock()
	a.status = body
	a.mu.Unlock()
	return nil
}
