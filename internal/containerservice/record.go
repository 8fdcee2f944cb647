package containerservice

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// clusterRecord is the format of the row of a managed cluster (see package record). When a
// change of the wire type changes what Encode writes, raise its Schema and wrap Read to read
// the version before; TestRecord fails until then.
//
// Versions: 2 added the agent pools' maxPods, osDiskSizeGB, nodeLabels, nodeTaints and
// tags. A version 1 row reads as it is (the pools without them, served with AKS's defaults
// by withDefaults); version 2 keeps a server that does not know them from rewriting a row
// without them. 3 added the pools' currentOrchestratorVersion and powerState, which
// withDefaults derives on every read, so a version 2 row reads as it is. 4 added the
// network profile's loadBalancerProfile, which withDefaults gives an embedded cluster
// without one (AKS's default), so a version 3 row reads as it is. 5 added the pools'
// osSKU, osDiskType, enableNodePublicIP and enableEncryptionAtHost, which withDefaults
// gives an embedded cluster's pools without them, so a version 4 row reads as it is. 6
// spells the etag eTag, AKS's key; a row holds none in practice (it is the row's version,
// set on every read), and encoding/json matches keys case-insensitively, so a version 5
// row reads as it is; 6 also added the pools' eTag (their cluster's, set on every read
// as the cluster's is).
var clusterRecord = record.Kind[armapi.ManagedCluster]{Name: "managed cluster", Schema: 6}
