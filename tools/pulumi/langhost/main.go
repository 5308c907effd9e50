// Command langhost is the Python and Node.js language host of the test toolchain,
// installed as pulumi-language-python and pulumi-language-nodejs (the language is the
// executable's name).
//
// The hosts the module proxy serves (sdk/v3 3.79.0 for Python, 3.68.0 for Node.js,
// see build.sh) run programs but cannot generate code, and they predate the CLI
// passing a project's runtime options in each request instead of on their command
// line. This host answers GenerateProgram, GenerateProject and GeneratePackage itself
// with the generators of pkg/v3 (the CLI's release), and forwards every other call to
// an old host (legacy/<its own name>), started with the flags the CLI of its time gave
// it for the program the call is about.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot locate this executable: %w", err)
	}
	name := filepath.Base(self)
	lang, ok := languages[strings.TrimPrefix(name, "pulumi-language-")]
	if !ok {
		return fmt.Errorf("%s: not a language this host serves (install it as pulumi-language-python or pulumi-language-nodejs)", name)
	}

	// The CLI's arguments (log flags, then the engine's address last) go to every
	// old host unchanged.
	args := os.Args[1:]
	var engine string
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") {
		engine = args[n-1]
	}

	// The CLI stops a plugin with SIGINT to its process group, which the old hosts
	// share with this one.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if engine != "" {
		if err := rpcutil.Healthcheck(ctx, engine, 5*time.Minute, stop); err != nil {
			return fmt.Errorf("cannot watch the engine at %s: %w", engine, err)
		}
	}

	hosts := newLegacyHosts(lang, filepath.Join(filepath.Dir(self), "legacy", name), args)
	defer hosts.stop()
	p := &proxy{local: lang.local(), hosts: hosts}

	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		hosts.stop()
		close(cancel)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Options: []grpc.ServerOption{
			grpc.ForceServerCodec(frameCodec{}),
			grpc.UnknownServiceHandler(p.handle),
		},
	})
	if err != nil {
		return fmt.Errorf("cannot serve: %w", err)
	}
	// The port on the first line of stdout is how the CLI finds a plugin.
	fmt.Printf("%d\n", handle.Port)
	return <-handle.Done
}
