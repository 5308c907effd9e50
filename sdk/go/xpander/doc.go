// The three-tier IAM architecture of a self-hosted xpander install: a base role on EKS Pod Identity and least-privilege connector roles with cross-account trust.
package xpander
