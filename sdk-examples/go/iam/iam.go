// Package iam declares the three-tier IAM architecture of a self-hosted
// xpander install.
//
// The xpander pods get one base role through EKS Pod Identity; it has no
// service permissions and can only assume the connector roles, one per data
// source. Paste each exported connector ARN into the xpander UI (connector
// settings, "IAM Role ARN").
package iam

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/xpander-ai/pulumi-xpander/sdk/go/xpander"
)

// Program reads the stack config of Pulumi.yaml and declares the roles.
func Program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	clusterName := cfg.Require("clusterName")
	// The ExternalId of the xpander platform's cross-account access: secret
	// from the stack config to the state file.
	organizationID := cfg.RequireSecret("organizationId")
	// xpander's AWS account: the one account the ExternalId statement trusts
	// (left out, it would trust this account's own root).
	platformAccountID := cfg.Require("platformAccountId")
	// Defaults of the optional keys are declared in Pulumi.yaml.
	var s3Buckets []string
	cfg.RequireObject("s3Buckets", &s3Buckets)

	// Step 1: the base role, attached to the `xpander` service account in the
	// `xpander` namespace (the defaults of PodIdentity) through EKS Pod
	// Identity. Its trust admits those pods only.
	base, err := xpander.NewXpanderBaseRole(ctx, "base", &xpander.XpanderBaseRoleArgs{
		RoleName:    pulumi.String("xpander-base-role"),
		PodIdentity: &xpander.PodIdentityArgs{ClusterName: pulumi.String(clusterName)},
	})
	if err != nil {
		return err
	}

	// Step 2: one connector role per data source, each with the four-statement
	// trust. Each grants the base role `sts:AssumeRole` + `sts:TagSession` on
	// itself, so adding or removing a connector touches no other grant.
	// BaseRoleId: a replaced base role is a new principal to IAM; passing its
	// id makes every connector rewrite its trust in the same `pulumi up`.
	// PodIdentityScope: the connector's PodIdentity fallback admits the base
	// role's pods only, not any Pod Identity association of the account.
	connector := func(name, roleName string, args xpander.XpanderConnectorRoleArgs) (*xpander.XpanderConnectorRole, error) {
		args.RoleName = pulumi.String(roleName)
		args.BaseRoleArn = base.Arn
		args.BaseRoleId = base.RoleId
		args.ExternalId = organizationID
		args.TrustedAccountId = pulumi.String(platformAccountID)
		args.PodIdentityScope = base.PodIdentity
		return xpander.NewXpanderConnectorRole(ctx, name, &args)
	}

	redshift, err := connector("redshift", "xpander-redshift-access", xpander.XpanderConnectorRoleArgs{
		Redshift: &xpander.RedshiftArgs{
			ClusterIdentifier: pulumi.String(cfg.Require("redshiftClusterId")),
			DatabaseName:      pulumi.String(cfg.Require("redshiftDatabase")),
		},
	})
	if err != nil {
		return err
	}

	// The seed's EKSAccess policy plus an access entry with
	// AmazonEKSClusterAdminPolicy; set AccessPolicyArn to AmazonEKSViewPolicy
	// for read-only Kubernetes access.
	eks, err := connector("eks", "xpander-eks-connector", xpander.XpanderConnectorRoleArgs{
		Eks: &xpander.EksArgs{ClusterName: pulumi.String(clusterName)},
	})
	if err != nil {
		return err
	}

	ctx.Export("baseRoleArn", base.Arn)
	ctx.Export("redshiftRoleArn", redshift.Arn)
	ctx.Export("eksRoleArn", eks.Arn)

	// Adding a New Connector: list buckets in `s3Buckets` and run `pulumi up`.
	// Only the new role and its grant on the base role are created; the Pod
	// Identity association stays as it is. Then set the ARN in the xpander UI
	// and restart the AI Gateway:
	//   kubectl rollout restart deployment xpander-ai-gateway -n xpander
	if len(s3Buckets) > 0 {
		s3, err := connector("s3", "xpander-s3-connector", xpander.XpanderConnectorRoleArgs{
			S3: &xpander.S3Args{Buckets: pulumi.ToStringArray(s3Buckets), ReadOnly: pulumi.Bool(true)},
		})
		if err != nil {
			return err
		}
		ctx.Export("s3RoleArn", s3.Arn)
	}
	return nil
}
