// Package inference is the cluster side of mlfleet's online endpoints: the names and the
// configuration the API side writes into a compute's cluster, mlfleet's own Python
// inference server, and the process supervisor that runs it.
//
// The API side applies, in the namespace [Namespace] of the compute's cluster, one apps/v1
// Deployment per online deployment ([DeploymentObjectName]) whose pod template carries the
// annotation [AnnotationRuntime] = [RuntimePython] and the labels [LabelEndpoint] and
// [LabelDeployment], and one Secret per endpoint
// ([SecretObjectName], labelled [LabelEndpointConfig]) holding the JSON of an
// [EndpointConfig] under [SecretKeyConfig].
//
// On embedded clusters the pod stand-in of the cluster runtime runs each such pod as a
// local process, with the model and code a [FilesResolver] finds for it in mlfleet's own
// records (never from the pod, which whoever holds the cluster's kubeconfig may write), through a [Supervisor]: `python -u server.py` (the script is [ServerScript],
// shipped inside the binary), run in a sandbox that hides mlfleet's home and state from it
// ([ProcessSpec.Sandbox], package sandbox), which imports the scoring script, calls its init() once and
// its run(raw_data) for every POST /score, with the model directory in AZUREML_MODEL_DIR.
// The supervisor restarts the process with exponential back-off when it dies, probes
// GET /ready, writes the process's output to a size-capped log file and stops the whole
// process group on Stop. The router (package inference/router) forwards the scoring
// requests of an endpoint to the Ready instances of its deployments.
package inference
