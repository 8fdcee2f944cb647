package kube

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestGetIfExists: a missing object is no error, a refusal is translated. The objects are
// in client-go's fake clientset (a fake, so named), which can script the refusal a real
// apiserver gives only a user without rights.
func TestGetIfExists(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "here", Namespace: kubeSystem}})
	client.PrependReactor("get", "configmaps", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.(k8stesting.GetAction).GetName() != "refused" {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "refused", errors.New("no rights"))
	})
	get := client.CoreV1().ConfigMaps(kubeSystem).Get
	tests := []struct {
		name      string
		wantFound bool
		wantErr   error
	}{
		{name: "here", wantFound: true},
		{name: "missing"},
		{name: "refused", wantErr: ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm, found, err := getIfExists(ctx, get, tt.name, "get configmap %s", tt.name)
			if found != tt.wantFound || !errors.Is(err, tt.wantErr) {
				t.Fatalf("found %v, error %v; want %v, %v", found, err, tt.wantFound, tt.wantErr)
			}
			if found != (cm != nil) {
				t.Errorf("found %v with object %v; want an object exactly when found", found, cm)
			}
		})
	}
}
