// The three-tier IAM architecture of a self-hosted xpander install, as a Pulumi
// Go program: `pulumi up` runs it through the Go language host. Without one,
// ./automation deploys the same program from this process.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/xpander-ai/pulumi-xpander/sdk-examples/go/iam"
)

func main() {
	pulumi.Run(iam.Program)
}
