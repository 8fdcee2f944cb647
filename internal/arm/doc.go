// Package arm holds the Azure Resource Manager wire vocabulary mlfleet speaks: resource ids,
// the ARM error type with its stable codes, and the shape of list pages. It has no I/O.
package arm
