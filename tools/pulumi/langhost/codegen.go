package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/hcl2/syntax"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// language is what differs between the Python and the Node.js host.
type language struct {
	name string
	// The runtime options the old host takes as flags (`-name=value`), as the CLI of
	// its time passed them; any other option would be a flag it refuses.
	legacyOptions []string
	program       func(*pcl.Program) (map[string][]byte, hcl.Diagnostics, error)
	project       func(dir string, project workspace.Project, program *pcl.Program, deps map[string]string) error
	pkg           func(tool string, pkg *schema.Package, req *pulumirpc.GeneratePackageRequest,
		loader schema.ReferenceLoader) (map[string][]byte, error)
}

var languages = map[string]*language{
	"python": {
		name:          "python",
		legacyOptions: []string{"virtualenv"},
		program:       python.GenerateProgram,
		project: func(dir string, project workspace.Project, program *pcl.Program, deps map[string]string) error {
			// No typechecker or toolchain: what the released host passes outside conformance tests.
			return python.GenerateProject(dir, project, program, deps, "", "")
		},
		pkg: func(tool string, pkg *schema.Package, req *pulumirpc.GeneratePackageRequest,
			loader schema.ReferenceLoader,
		) (map[string][]byte, error) {
			return python.GeneratePackage(tool, pkg, req.ExtraFiles, loader)
		},
	},
	"nodejs": {
		name:          "nodejs",
		legacyOptions: []string{"typescript", "tsconfig", "nodeargs"},
		program:       nodejs.GenerateProgram,
		project: func(dir string, project workspace.Project, program *pcl.Program, deps map[string]string) error {
			return nodejs.GenerateProject(dir, project, program, deps, false, "nodejs")
		},
		pkg: func(tool string, pkg *schema.Package, req *pulumirpc.GeneratePackageRequest,
			loader schema.ReferenceLoader,
		) (map[string][]byte, error) {
			return nodejs.GeneratePackage(tool, pkg, req.ExtraFiles, req.LocalDependencies, req.Local, loader)
		},
	},
}

// legacyInvocation is the working folder and flags of the old host for a program: the
// project root and the runtime options it knows, in the program's folder.
func (l *language) legacyInvocation(info *pulumirpc.ProgramInfo) (string, []string) {
	if info == nil {
		return "", nil
	}
	var flags []string
	if info.RootDirectory != "" {
		flags = append(flags, "-root="+info.RootDirectory)
	}
	options := info.Options.AsMap()
	for _, name := range l.legacyOptions {
		if value, ok := options[name]; ok {
			flags = append(flags, fmt.Sprintf("-%s=%v", name, value))
		}
	}
	return info.ProgramDirectory, flags
}

func (l *language) local() map[string]func(grpc.ServerStream) error {
	return map[string]func(grpc.ServerStream) error{
		"/pulumirpc.LanguageRuntime/GenerateProgram": unary(l.generateProgram),
		"/pulumirpc.LanguageRuntime/GenerateProject": unary(l.generateProject),
		"/pulumirpc.LanguageRuntime/GeneratePackage": unary(l.generatePackage),
		"/pulumirpc.LanguageRuntime/Link":            unary(link),
	}
}

// link adds locally generated SDKs to a project. `pulumi convert` asks for it after
// every conversion, with the SDKs it generated for parameterized packages only; the
// old hosts do not know the method, and this toolchain converts programs that use
// none (xpander is not parameterized).
func link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	if len(req.Packages) > 0 {
		return nil, status.Errorf(codes.Unimplemented,
			"this test toolchain's language host links no local SDKs (asked for %d)", len(req.Packages))
	}
	return &pulumirpc.LinkResponse{}, nil
}

func unary[Req any, Resp proto.Message](
	serve func(context.Context, *Req) (Resp, error),
) func(grpc.ServerStream) error {
	return func(stream grpc.ServerStream) error {
		req := new(Req)
		if err := stream.RecvMsg(req); err != nil {
			return err
		}
		resp, err := serve(stream.Context(), req)
		if err != nil {
			return err
		}
		return stream.SendMsg(resp)
	}
}

// The engine's schema loader (its Loader service, at the address the CLI passes).
func engineLoader(target string) (schema.ReferenceLoader, func(), error) {
	client, err := schema.NewLoaderClient(target)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach the schema loader at %s: %w", target, err)
	}
	return schema.NewCachedLoader(client), func() { _ = client.Close() }, nil
}

func bindOptions(strict bool) []pcl.BindOption {
	// Both released hosts prefer the output-versioned form of invokes.
	options := []pcl.BindOption{pcl.PreferOutputVersionedInvokes}
	if !strict {
		options = append(options, pcl.NonStrictBindOptions()...)
	}
	return options
}

func (l *language) generateProgram(
	ctx context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	loader, done, err := engineLoader(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer done()

	parser := syntax.NewParser()
	names := make([]string, 0, len(req.Source))
	for name := range req.Source {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := parser.ParseFile(strings.NewReader(req.Source[name]), name); err != nil {
			return nil, err
		}
	}
	if parser.Diagnostics.HasErrors() {
		return &pulumirpc.GenerateProgramResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(parser.Diagnostics)}, nil
	}
	program, diags, err := pcl.BindProgram(parser.Files, loader, bindOptions(req.Strict)...)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GenerateProgramResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
	}
	files, genDiags, err := l.program(program)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GenerateProgramResponse{
		Source:      files,
		Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(append(diags, genDiags...)),
	}, nil
}

func (l *language) generateProject(
	ctx context.Context, req *pulumirpc.GenerateProjectRequest,
) (*pulumirpc.GenerateProjectResponse, error) {
	loader, done, err := engineLoader(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer done()

	program, diags, err := pcl.BindDirectory(req.SourceDirectory, loader, bindOptions(req.Strict)...)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GenerateProjectResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
	}
	var project workspace.Project
	if err := json.Unmarshal([]byte(req.Project), &project); err != nil {
		return nil, fmt.Errorf("the project the CLI sent does not decode: %w", err)
	}
	if err := l.project(req.TargetDirectory, project, program, req.LocalDependencies); err != nil {
		return nil, err
	}
	return &pulumirpc.GenerateProjectResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
}

func (l *language) generatePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	loader, done, err := engineLoader(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer done()

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, fmt.Errorf("the schema the CLI sent does not decode: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
	}
	// The tool name is printed in every generated file; the released host gives its own.
	files, err := l.pkg("pulumi-language-"+l.name, pkg, req, loader)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.Directory, name)
		// The released hosts' modes: the files are the user's alone until they commit them.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
}
