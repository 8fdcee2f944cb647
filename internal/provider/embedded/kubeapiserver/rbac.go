package kubeapiserver

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// managedByLabel marks the objects this package creates in a cluster.
var managedByLabel = map[string]string{"app.kubernetes.io/managed-by": "mlfleet"}

// ensureUserBindings grants the cluster user group its rights (see doc.go): "view" everywhere,
// reading nodes, and "edit" in the "default" namespace. It creates what is missing and
// leaves existing objects alone, so it is idempotent and cheap on every start, and a
// cluster made before a right was added gets it on its next start.
func ensureUserBindings(ctx context.Context, client kubernetes.Interface) error {
	subjects := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: userGroup}}
	// "view" leaves out the cluster-scoped nodes; AKS's quickstart runs `kubectl get nodes`
	// with the user credential of a cluster without Entra ID.
	nodes := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: userGroup + ":nodes", Labels: managedByLabel},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}}},
	}
	_, err := client.RbacV1().ClusterRoles().Create(ctx, nodes, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create cluster role %s: %w", nodes.Name, err)
	}
	for _, role := range []string{"view", nodes.Name} {
		b := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: userGroup + ":" + strings.TrimPrefix(role, userGroup+":"), Labels: managedByLabel},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   subjects,
		}
		_, err := client.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create cluster role binding %s: %w", b.Name, err)
		}
	}
	edit := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: userGroup + ":edit", Namespace: metav1.NamespaceDefault, Labels: managedByLabel},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   subjects,
	}
	_, err = client.RbacV1().RoleBindings(edit.Namespace).Create(ctx, edit, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create role binding %s/%s: %w", edit.Namespace, edit.Name, err)
	}
	return nil
}

// rolesAggregated tells (nil) whether the aggregated ClusterRoles the cluster user is bound
// to have received their rules from the aggregation controller.
func rolesAggregated(ctx context.Context, client kubernetes.Interface) error {
	for _, name := range []string{"view", "edit"} {
		role, err := client.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get cluster role %s: %w", name, err)
		}
		if len(role.Rules) == 0 {
			return fmt.Errorf("cluster role %s not aggregated yet", name)
		}
	}
	return nil
}
