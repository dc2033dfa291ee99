//go:build tools

// Package tools pins the Python language host's package so `go build` of it is verified by this module's go.sum.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
