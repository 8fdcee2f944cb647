// Package pki creates and loads the certificate material mlfleet keeps on disk: the home's
// certificate authority and the server certificate mlfleet serves HTTPS with, and each
// embedded cluster's CA, serving and client certificates and service account key.
//
// A CA is created once and loaded ever after (EnsureCA); replacing it would break every
// client that trusts it. Leaf certificates are reissued from the CA whenever the files on
// disk no longer fit (CA.LoadOrIssue): missing, unreadable, signed by another CA, close to
// expiry, or for another subject or other names. Certificates and keys are PEM files, keys
// PKCS#8, written with atomicfile so that a crash never leaves half a file; files written by
// earlier versions load unchanged (testdata/home-v1). Certificate templates and PEM parsing
// come from k8s.io/client-go/util/cert and keyutil, the code Kubernetes uses for the same job.
package pki
