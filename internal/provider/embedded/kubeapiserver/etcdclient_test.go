package kubeapiserver

import (
	"errors"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
)

func otherDecorator(*storagebackend.ConfigForResource, string, func(runtime.Object) (string, error),
	func() runtime.Object, func() runtime.Object, storage.AttrFunc, storage.IndexerFuncs, *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
	return nil, nil, errors.New("other")
}

func TestSharedClientGetterReplacesOnlyUndecoratedStorage(t *testing.T) {
	e := &sharedEtcd{}
	gr := schema.GroupResource{Resource: "pods"}
	if e.wrap(nil) != nil {
		t.Error("wrap(nil) is not nil")
	}

	got, err := e.wrap(generic.RESTOptions{Decorator: generic.UndecoratedStorage}).GetRESTOptions(gr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(got.Decorator).Pointer() == undecoratedStorage {
		t.Error("UndecoratedStorage was not replaced")
	}
	// The replacement refuses to build storage once the server's client is closed.
	e.close()
	if _, _, err := got.Decorator(&storagebackend.ConfigForResource{}, "pods", nil, nil, nil, nil, nil, nil); !errors.Is(err, errEtcdClosed) {
		t.Errorf("storage after close: err = %v, want errEtcdClosed", err)
	}

	got, err = e.wrap(generic.RESTOptions{Decorator: otherDecorator}).GetRESTOptions(gr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := got.Decorator(nil, "", nil, nil, nil, nil, nil, nil); err == nil || err.Error() != "other" {
		t.Errorf("another decorator was replaced (err %v)", err)
	}
}
