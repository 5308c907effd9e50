// Command automation deploys the example's program (package iam) as an
// Automation API inline program: this process serves the program to the
// `pulumi` CLI itself (the CLI runs with --client), so no Go language host
// is needed, only `pulumi` on PATH and the xpander plugin. Run it in the
// project folder; the stack and its config are the CLI's as usual.
//
//	pulumi stack init dev && pulumi config set clusterName my-eks-cluster
//	go run ./automation preview
//	go run ./automation up
//	go run ./automation -expect-no-changes preview
//	go run ./automation destroy
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/xpander-ai/pulumi-xpander/sdk-examples/go/iam"
)

func main() {
	stackName := flag.String("stack", "dev", "the stack to operate on")
	dir := flag.String("dir", ".", "the project folder (holds Pulumi.yaml)")
	expectNoChanges := flag.Bool("expect-no-changes", false, "fail if preview or refresh would change anything")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: automation [flags] preview|up|refresh|destroy")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, flag.Arg(0), *stackName, *dir, *expectNoChanges); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, command, stackName, dir string, expectNoChanges bool) error {
	// The project's own Pulumi.yaml (its name and config schema) is used, not a default one.
	stack, err := auto.SelectStackInlineSource(ctx, stackName, "xpander-iam", iam.Program, auto.WorkDir(dir))
	if err != nil {
		return err
	}
	switch command {
	case "preview":
		opts := []optpreview.Option{optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr)}
		if expectNoChanges {
			opts = append(opts, optpreview.ExpectNoChanges())
		}
		_, err = stack.Preview(ctx, opts...)
	case "up":
		_, err = stack.Up(ctx, optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr))
	case "refresh":
		opts := []optrefresh.Option{optrefresh.ProgressStreams(os.Stdout), optrefresh.ErrorProgressStreams(os.Stderr)}
		if expectNoChanges {
			opts = append(opts, optrefresh.ExpectNoChanges())
		}
		_, err = stack.Refresh(ctx, opts...)
	case "destroy":
		_, err = stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr))
	default:
		return errors.New("unknown command " + command + ": preview, up, refresh or destroy")
	}
	return err
}
