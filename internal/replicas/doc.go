// Package replicas keeps this server's row in the store's replica table: written at start,
// renewed by a heartbeat on the database's clock with the address the replica serves at
// and the clusters it runs, removed on a clean stop. Every replica of a shared store thus
// sees which replicas are alive (`mlfleet replica list`); with one SQLite server the table
// holds that server alone.
package replicas
