package kubeapiserver

import (
	"context"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestServiceAccountTokens checks that service account tokens authenticate, and that a
// token bound to an object stops working once the object is gone: the lookups behind
// token validation (tokengetter.go) see the cluster as it is.
func TestServiceAccountTokens(t *testing.T) {
	a, _ := sharedServers(t)
	ctx := context.Background()
	admin := clientFor(t, a.AdminKubeconfig())
	const ns = metav1.NamespaceDefault

	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "token-check"}}
	if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.CoreV1().ServiceAccounts(ns).Delete(ctx, sa.Name, metav1.DeleteOptions{}) })
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token-check-binding"}}
	secret, err := admin.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.CoreV1().Secrets(ns).Delete(ctx, secret.Name, metav1.DeleteOptions{}) })

	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: secret.Name, UID: secret.UID},
	}}
	token, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, request, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	cfg := rest.AnonymousClientConfig(a.InClusterConfig())
	cfg.BearerToken = token.Status.Token
	cfg.Timeout = 10 * time.Second
	robot, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := robot.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("self subject review with the token: %v", err)
	}
	if got, want := review.Status.UserInfo.Username, "system:serviceaccount:default:token-check"; got != want {
		t.Errorf("token authenticates as %q, want %q", got, want)
	}

	if err := admin.CoreV1().Secrets(ns).Delete(ctx, secret.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Authenticated tokens are cached for a few seconds; after that the token must fail.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := robot.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if apierrors.IsUnauthorized(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token bound to a deleted Secret still works: err = %v", err)
		}
		time.Sleep(time.Second)
	}
}
