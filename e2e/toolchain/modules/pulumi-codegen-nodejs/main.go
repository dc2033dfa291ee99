// pulumi-language-nodejs, code generation only: a stand-in for Pulumi's Node.js language host that answers the one
// request `pulumi package gen-sdk --language nodejs` sends (GeneratePackage), so the real CLI generates a TypeScript
// SDK. The real host's module (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the Go module proxy at any
// version, and the sdk/v3 releases that still carried a Node.js host predate GeneratePackage. The generation is the
// code the real host runs (its GeneratePackage, at the CLI's release): pkg/v3's codegen/nodejs, bound through the
// CLI's schema loader. Every other request (running a program, installing dependencies...) is unimplemented: this
// cannot run a TypeScript program.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Set with -ldflags -X main.version=... to the pkg/v3 release the generator comes from.
var version = "dev"

type codegenHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

func (codegenHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GeneratePackage is the real host's (sdk/nodejs/cmd/pulumi-language-nodejs, main.go) unchanged in substance.
func (codegenHost) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewCachedLoader(loader), schema.ValidationOptions{
		AllowDanglingReferences: true,
	})
	if err != nil {
		return nil, err
	}
	rpcDiagnostics := plugin.HclDiagnosticsToRPCDiagnostics(diags)
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: rpcDiagnostics}, nil
	}

	files, err := codegen.GeneratePackage(
		"pulumi-language-nodejs", pkg, req.ExtraFiles, req.LocalDependencies, req.Local, schema.NewCachedLoader(loader))
	if err != nil {
		return nil, err
	}
	for filename, data := range files {
		outPath := filepath.Join(req.Directory, filename)
		if err := os.MkdirAll(filepath.Dir(outPath), 0o700); err != nil {
			return nil, fmt.Errorf("could not create output directory %s: %w", filepath.Dir(filename), err)
		}
		if err := os.WriteFile(outPath, data, 0o600); err != nil {
			return nil, fmt.Errorf("could not write output file %s: %w", filename, err)
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: rpcDiagnostics}, nil
}

func main() {
	// The engine passes its address (and, when verbose, logging flags); code generation needs neither.
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, codegenHost{})
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the code generation host: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("code generation host stopped serving: %w", err))
	}
}
