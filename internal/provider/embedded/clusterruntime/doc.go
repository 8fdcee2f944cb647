// Package clusterruntime makes a bare kube-apiserver behave like a small AKS cluster. A
// kube-apiserver alone runs no controllers, has no nodes and no kubelets: Deployments
// never get pods, pods stay Pending, namespaces stay Terminating, Services of type
// LoadBalancer never get an address. A [Runtime], started with an admin rest.Config of the
// cluster, supplies the rest in-process, once per cluster:
//
//   - Upstream controllers from k8s.io/kubernetes/pkg/controller, built from their
//     constructors on one shared informer factory (controllers.go): deployment,
//     replicaset, namespace (namespace deletion; namespacedeletion.go runs its work
//     without its 5 s grace period for HA control planes once the one apiserver refuses
//     new content in the namespace), garbage collector (cascading deletion
//     through ownerReferences, for every resource discovery lists), endpointslice,
//     serviceaccount (the "default" ServiceAccount of each namespace) and disruption (the
//     status of PodDisruptionBudgets, which evictions check). Not the whole
//     kube-controller-manager: no leader election, no HTTP server, no controllers that a
//     simulated cluster cannot use (node lifecycle, routes, volumes, certificates).
//   - A node simulator (nodes.go, nodestatus.go, nodelease.go, nodepool.go):
//     [Runtime.SetPool] registers the nodes of an agent pool under AKS names
//     (aks-<pool>-<8 digits>-vmss<6 base-36 digits>), with AKS labels and the pool's own
//     labels and taints, capacity and allocatable after the AKS reservation rules (pods:
//     the pool's maxPods), Ready conditions, an InternalIP from the
//     node subnet and a /24 pod range. Like kubelets it renews the nodes' Leases in
//     kube-node-lease (nodelease.go), refreshes their heartbeats (nodestatus.go), and
//     registers a node again if someone deletes it. Scale-down takes the cordoned nodes,
//     then the highest indexes, and drains them first (drain.go, shared with the
//     autoscaler): cordon, evictions through the eviction API so that
//     PodDisruptionBudgets hold, a bounded wait; a failed drain keeps the pool as it was
//     (a DrainError). DeletePool does not drain. Each node records its pool in the
//     annotation mlfleet.io/node-pool, so that a runtime started again on the same cluster
//     (after a restart of mlfleet) adopts the pools and keeps their nodes alive.
//   - A pod simulator (pods.go, scheduling.go) standing in for kube-scheduler and the
//     kubelets: it binds pending pods of the default scheduler through pods/binding to
//     Ready nodes with room for their requests (cpu, memory, extended resources such as
//     nvidia.com/gpu, pod count), honouring nodeSelector, required node affinity, taints
//     and cordons, spreading the replicas of a controller; pods that fit nowhere get
//     PodScheduled=False, reason Unschedulable, with the scheduler's message, and are
//     tried again when nodes or pods change. Pods bound to simulated nodes are reported
//     Running and Ready with a pod IP; pods being deleted there are removed at once, as
//     a kubelet does when their containers have stopped.
//   - Inference pods as local processes (inferencepods.go): with Options.DataDir set, a
//     pod bound to a simulated node whose annotation inference.AnnotationRuntime says
//     inference.RuntimePython is run as mlfleet's Python inference server on 127.0.0.1
//     (one process per pod, under an inference.Supervisor), its address written into the
//     pod's annotation inference.AnnotationLocalAddress. Ready follows the server's
//     GET /ready; a process that dies is restarted with back-off and its container status
//     shows the restart count, the last termination (exit code, the end of its output)
//     and CrashLoopBackOff. Deleting the pod, scaling in or stopping the runtime stops the
//     process group; a runtime started again on the cluster starts the processes of the
//     pods again. [Runtime.PodLogs] reads their output.
//   - A cluster autoscaler (autoscaler.go), off until [Runtime.SetAutoscaler] names
//     autoscaled pools. Every scan interval it plans the pods the scheduler stand-in left
//     Unschedulable onto the room the nodes have left, then onto template nodes of the
//     autoscaled pools (the scheduler's own fit checks), and grows each pool by the new
//     nodes it needs, never past its maximum; pods no new node could take get a
//     NotTriggerScaleUp event with the reasons. A node whose pods' requests stay under
//     the utilization threshold for the unneeded time, and whose pods fit elsewhere, is
//     cordoned, drained through evictions (PodDisruptionBudgets hold) and removed, never
//     below the minimum nor within the delay after a scale-up. Any node of a pool can go,
//     the least used first, as a scale set loses the instance the autoscaler names: a
//     pool keeps its nodes' indexes, grows by the lowest free ones. Each decision
//     goes first to AutoscalerConfig.Resize, so that the owner of the pool (mlfleet's
//     store) records it before the pool changes, and to AutoscalerConfig.Resized once
//     it has (mlfleet refreshes the attached compute); its status is the ConfigMap
//     kube-system/cluster-autoscaler-status (autoscaler_status.go).
//   - A load balancer simulator (loadbalancer.go) standing in for the Azure cloud
//     provider's service controller: Services of type LoadBalancer get an address,
//     internal or public after the Azure annotations, kept until the Service goes or
//     changes type.
//
// Addresses come from address pools (ipam.go) that start empty and are refilled at Start
// from what the cluster records (node addresses, pod IPs, Service ingress), so they stay
// stable across restarts.
//
// # Permissions
//
// The rest.Config must be a cluster administrator's (system:masters): the garbage
// collector and namespace controller list, watch and delete every resource type; the
// simulators create and delete nodes and Leases, bind pods and write the status of nodes,
// pods and Services.
//
// # Process-wide state
//
// The upstream controllers log through klog's contextual logging, which the runtime
// routes to Options.Logger. Some upstream code still logs through klog's global logger
// (utilruntime.HandleError, some client-go internals); routing or silencing that one is
// the job of the program, once (klog.SetSlogLogger or klog.SetLogger), since klog is
// process-wide. The controllers also register their Prometheus metrics in the
// process-wide legacy registry, once per process: several runtimes share the series.
package clusterruntime
