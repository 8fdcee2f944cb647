package kubeapiserver

import (
	"context"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/serviceaccount"
)

// tokenGetter looks up what validating a service account token needs (the service
// account, and the pod, secret, node or webhook configuration the token is bound to)
// with GET requests to the apiserver itself. kube-apiserver's own getter reads them from
// informers, which makes every cluster watch and cache all its Secrets, ServiceAccounts
// and webhook configurations for the few requests that carry a service account token;
// authenticated tokens are cached for 10 seconds anyway, so a lookup per new token is
// cheap. Start sets client before the apiserver serves; until then the getter finds
// nothing.
type tokenGetter struct {
	client kubernetes.Interface
}

var _ serviceaccount.ServiceAccountTokenGetter = (*tokenGetter)(nil)

// forFactory has the type of options.ServiceAccountAuthenticationOptions.OptionalTokenGetter.
func (g *tokenGetter) forFactory(informers.SharedInformerFactory) serviceaccount.ServiceAccountTokenGetter {
	return g
}

func (g *tokenGetter) GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	if g.client == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("serviceaccounts"), name)
	}
	return g.client.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (g *tokenGetter) GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	if g.client == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("pods"), name)
	}
	return g.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (g *tokenGetter) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	if g.client == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("secrets"), name)
	}
	return g.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

// GetNode finds nothing when node binding validation is off, as kube-apiserver's getter.
func (g *tokenGetter) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	if g.client == nil || !utilfeature.DefaultFeatureGate.Enabled(features.ServiceAccountTokenNodeBindingValidation) {
		return nil, apierrors.NewNotFound(corev1.Resource("nodes"), name)
	}
	return g.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
}

func (g *tokenGetter) GetValidatingWebhookConfiguration(ctx context.Context, name string) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	if g.client == nil {
		return nil, apierrors.NewNotFound(admissionregistrationv1.Resource("validatingwebhookconfigurations"), name)
	}
	return g.client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
}

func (g *tokenGetter) GetMutatingWebhookConfiguration(ctx context.Context, name string) (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	if g.client == nil {
		return nil, apierrors.NewNotFound(admissionregistrationv1.Resource("mutatingwebhookconfigurations"), name)
	}
	return g.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
}
