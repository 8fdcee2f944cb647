// Package arm holds the Azure Resource Manager vocabulary the server speaks: resource ids,
// the ARM error type with its stable codes (served as armapi.Error), regions and
// preconditions. It has no I/O; the bodies themselves are package armapi's.
package arm
